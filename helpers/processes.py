"""Child processes that never outlive their time limit: each runs in its own process group.

The grader runs a learner's notebook in a child, and the challenge's memory probe runs one child
per training mode; either may start children of its own (a memory probe inside a graded
notebook, DataLoader workers). Stopping only the direct child would leave those running, so a
child here always starts a new session and is stopped with its whole group.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def start(command: Sequence[str], *, cwd: str | Path, env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start ``command`` in a new process group, stdin closed, stdout and stderr captured as text."""
    return subprocess.Popen(list(command), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def stop(child: subprocess.Popen[str]) -> None:
    """Kill ``child``'s whole process group (SIGKILL) and reap it; nothing happens if it already ended."""
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:  # ended between poll() and killpg()
            pass
    child.communicate()


def run(command: Sequence[str], *, cwd: str | Path, env: Mapping[str, str],
        timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to the end, or stop its whole process group after ``timeout`` seconds.

    Returns:
        The finished process, with ``stdout`` and ``stderr`` as text.

    Raises:
        subprocess.TimeoutExpired: it ran longer than ``timeout`` (its group has been killed).
    """
    child = start(command, cwd=cwd, env=env)
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(child)
        raise
    except BaseException:  # Ctrl-C in the parent: take the children down too
        stop(child)
        raise
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
