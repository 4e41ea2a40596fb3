"""Peak memory of a block of code, in bytes, on CPU or CUDA.

>>> with peak_memory() as mem:
...     model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")
>>> print(format_bytes(mem.peak_bytes))
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def format_bytes(num_bytes: float) -> str:
    """Readable binary size: ``format_bytes(538_000_000) == '513.1 MiB'``.

    Raises:
        TypeError: not a number.
        ValueError: negative.
    """
    if isinstance(num_bytes, bool) or not isinstance(num_bytes, (int, float)):
        raise TypeError(f"num_bytes must be a number, got {type(num_bytes).__name__}")
    if num_bytes < 0:
        raise ValueError(f"num_bytes must be >= 0, got {num_bytes}")
    value = float(num_bytes)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@dataclass
class PeakMemory:
    """Result of :func:`peak_memory`; the fields are filled when the block exits.

    Attributes:
        device: ``"cpu"`` (process resident set size) or ``"cuda"`` (torch allocator).
        method: how the peak was measured (``"VmHWM"``, ``"sampled RSS"``,
            ``"cuda.max_memory_allocated"``).
        baseline_bytes: memory in use when the block started.
        peak_bytes: highest memory in use during the block.
    """

    device: str
    method: str
    baseline_bytes: int = 0
    peak_bytes: int = 0

    @property
    def increase_bytes(self) -> int:
        """Peak minus baseline: what the block itself added at its worst."""
        return max(0, self.peak_bytes - self.baseline_bytes)

    def __str__(self) -> str:
        return (
            f"peak {format_bytes(self.peak_bytes)} ({self.device}, +"
            f"{format_bytes(self.increase_bytes)} over the start)"
        )


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"{field} not in /proc/self/status")


def _can_reset_hwm() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # "5" resets the peak RSS (VmHWM); see proc(5)
        _status_kib("VmHWM")
    except OSError:
        return False
    return True


def _rss_bytes() -> int:
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss


@contextmanager
def peak_memory(device: torch.device | str | None = None, *, interval: float = 0.01) -> Iterator[PeakMemory]:
    """Measure the peak memory of the ``with`` block.

    CPU: the process's resident set size high-water mark. On Linux the kernel's
    own mark (``VmHWM``) is reset at the start, so nothing is missed; elsewhere
    RSS is sampled every ``interval`` seconds. CUDA: ``torch.cuda.max_memory_allocated``
    after ``reset_peak_memory_stats`` (tensors only, not the CUDA context).

    Args:
        device: ``"cuda"`` / a CUDA device to measure GPU memory; anything else
            (default) measures the process on the CPU.
        interval: sampling period in seconds where sampling is needed.

    Yields:
        A :class:`PeakMemory` whose ``peak_bytes`` is set when the block exits
        (also when it raises).
    """
    kind = torch.device(device).type if device is not None else "cpu"
    if kind == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        result = PeakMemory("cuda", "cuda.max_memory_allocated", torch.cuda.memory_allocated())
        try:
            yield result
        finally:
            torch.cuda.synchronize()
            result.peak_bytes = torch.cuda.max_memory_allocated()
        return
    if _can_reset_hwm():
        result = PeakMemory("cpu", "VmHWM", _status_kib("VmRSS"))
        try:
            yield result
        finally:
            result.peak_bytes = max(_status_kib("VmHWM"), result.baseline_bytes)
        return
    result = PeakMemory("cpu", "sampled RSS", _rss_bytes())
    peak = [result.baseline_bytes]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            peak[0] = max(peak[0], _rss_bytes())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()
        result.peak_bytes = max(peak[0], _rss_bytes())
