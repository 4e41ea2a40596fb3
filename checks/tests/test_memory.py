"""Peak memory measurement and byte formatting."""

from __future__ import annotations

import mmap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch

from helpers import memory
from helpers.memory import format_bytes, peak_memory

MiB = 2**20


@pytest.mark.parametrize(("value", "text"), [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"),
                                             (538_000_000, "513.1 MiB"), (3 * 2**30, "3.0 GiB")])
def test_format_bytes(value, text):
    assert format_bytes(value) == text


@pytest.mark.parametrize(("value", "error"), [(-1, ValueError), ("10", TypeError), (None, TypeError)])
def test_format_bytes_rejects_bad_input(value, error):
    with pytest.raises(error):
        format_bytes(value)


@contextmanager
def _fresh_resident(mib: int) -> Iterator[None]:
    """Hold `mib` MiB of new resident pages for the block, then give them back to the OS.

    An anonymous mmap, not a tensor: late in a long test run malloc can serve a big tensor from
    heap pages that earlier tests freed but that are still resident, and RSS would not move.
    """
    block = mmap.mmap(-1, mib * MiB)
    view = torch.frombuffer(block, dtype=torch.uint8)
    view.fill_(1)  # touch every page, so it is resident
    try:
        yield
    finally:
        del view
        block.close()


def test_peak_sees_memory_freed_before_the_block_ends():
    """The 300 MiB are gone when the block ends, and the peak still holds them.

    Compared with the RSS right after the block, not only with the baseline: the kernel may page
    out other cold pages of this process during the block (DAMON "pageout" on these machines).
    """
    with peak_memory() as mem:
        with _fresh_resident(300):
            held = memory._status_kib("VmRSS")
    after = memory._status_kib("VmRSS")
    assert mem.device == "cpu"
    assert mem.peak_bytes >= held - 4 * MiB, str(mem)  # the kernel's RSS counters lag by a few pages
    assert mem.peak_bytes - after >= 280 * MiB, f"{mem}; {format_bytes(after)} after the block"


def test_peak_is_reset_between_blocks():
    with peak_memory(), _fresh_resident(300):
        pass
    with peak_memory() as small, _fresh_resident(20):
        pass
    assert small.increase_bytes < 150 * MiB, str(small)


def test_sampling_fallback_without_proc(monkeypatch):
    """Without VmHWM the peak is sampled: a rise that is gone when the block ends is still seen.

    RSS is scripted here. A live process's RSS cannot show a sampled peak reliably: the kernel may
    page out other cold pages of the process meanwhile (this workplace's machines run DAMON with
    the "pageout" action, which dropped 200 MiB of mapped model files during this test in CI).
    """
    monkeypatch.setattr(memory, "_can_reset_hwm", lambda: False)
    held = threading.Event()
    monkeypatch.setattr(memory, "_rss_bytes", lambda: 1000 * MiB + (200 * MiB if held.is_set() else 0))
    with peak_memory(interval=0.001) as mem:
        held.set()
        time.sleep(0.05)  # dozens of samples while the memory is held
        held.clear()
    assert mem.method == "sampled RSS"
    assert (mem.baseline_bytes, mem.peak_bytes, mem.increase_bytes) == (1000 * MiB, 1200 * MiB, 200 * MiB), str(mem)


def test_cuda_path_uses_the_allocator_peak(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: None)
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda *a: calls.append("reset"))
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda *a: 100)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda *a: 900)
    with peak_memory("cuda") as mem:
        pass
    assert calls == ["reset"]
    assert (mem.method, mem.baseline_bytes, mem.peak_bytes, mem.increase_bytes) == (
        "cuda.max_memory_allocated", 100, 900, 800)


def test_result_is_filled_even_when_the_block_raises():
    with pytest.raises(RuntimeError), peak_memory() as mem:
        raise RuntimeError("boom")
    assert mem.peak_bytes > 0
