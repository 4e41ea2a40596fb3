"""Child processes that never outlive their time limit, nor leave anything running behind them.

The grader runs a learner's notebook in a child, and the challenge's memory probe runs one child
per training mode; either may start children of its own (a memory probe inside a graded
notebook, DataLoader workers, a server a learner's cell starts in a session of its own). So a
child here

* starts a new session and is stopped with its whole process group;
* carries a mark in its environment (:data:`MARK_ENV_VAR`), which every process it starts
  inherits: :func:`run` stops each process that still carries the mark when the child ends,
  even one that left the group (``start_new_session=True``);
* writes its output to files, not pipes, so a process that keeps them open cannot make the
  parent wait past the limit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

MARK_ENV_VAR = "WORKSHOP_PROCESS_MARK"
"""Environment variable that marks every process started, directly or not, by one :func:`run` call."""


def start(command: Sequence[str], *, cwd: str | Path, env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start ``command`` in a new process group, stdin closed, stdout and stderr captured as text."""
    return subprocess.Popen(list(command), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # the group has ended
        pass


def stop(child: subprocess.Popen[str]) -> None:
    """Kill ``child``'s whole process group (SIGKILL) and reap it; nothing happens if it already ended."""
    if child.poll() is None:
        _kill_group(child.pid)
    child.communicate()


def marked(mark: str) -> list[psutil.Process]:
    """The running processes of this user whose environment carries ``MARK_ENV_VAR=mark``.

    Processes whose environment cannot be read (another user's, or one that just ended) are left out.
    """
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(MARK_ENV_VAR) == mark:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def kill_all(procs: Sequence[psutil.Process]) -> int:
    """Kill (SIGKILL) each of ``procs`` and wait up to 5 s for them to end; returns how many there were."""
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:  # it ended meanwhile
            pass
    psutil.wait_procs(procs, timeout=5)
    return len(procs)


def stop_descendants() -> int:
    """Kill every process below this one (children, their children ...); returns how many there were."""
    return kill_all(psutil.Process().children(recursive=True))


def stop_marked(mark: str) -> int:
    """Kill every process carrying ``mark``; returns how many were still running."""
    return kill_all(marked(mark))


def run(command: Sequence[str], *, cwd: str | Path, env: Mapping[str, str],
        timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to the end, or stop it after ``timeout`` seconds; then stop everything it started.

    When the child ends (or is stopped), its process group and every process that carries its mark are killed:
    nothing it started keeps running, whether or not it left the group.

    Returns:
        The finished process, with ``stdout`` and ``stderr`` as text.

    Raises:
        subprocess.TimeoutExpired: it ran longer than ``timeout`` (it and its processes have been killed).
    """
    mark = uuid.uuid4().hex
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(list(command), cwd=cwd, env={**env, MARK_ENV_VAR: mark}, stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=err, text=True, start_new_session=True)
        try:
            child.wait(timeout=timeout)
        finally:  # a timeout, Ctrl-C in the parent, or a normal end: take down whatever is left
            _kill_group(child.pid)
            child.wait()
            stop_marked(mark)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(child.args, child.returncode, out.read(), err.read())
