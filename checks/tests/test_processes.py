"""helpers.processes: a child that outlives its time limit is killed with every process it started."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from helpers import processes

GRANDCHILD = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has ended but is not yet reaped by its parent
        return stat.read().split()[2] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_timeout_kills_the_whole_process_group(tmp_path):
    out = tmp_path / "out.txt"
    command = [sys.executable, "-c", f"import sys; sys.stdout = open({str(out)!r}, 'w'); exec({GRANDCHILD!r})"]
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        processes.run(command, cwd=tmp_path, env=os.environ, timeout=3)
    assert time.monotonic() - started < 10
    grandchild = int(out.read_text().split()[0])
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(grandchild), "the child's own child survived the timeout"


def test_a_finished_child_returns_its_output_and_closed_stdin(tmp_path):
    done = processes.run([sys.executable, "-c", "import sys; print(sys.stdin.read() == '')"],
                         cwd=tmp_path, env=os.environ, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == "True"
