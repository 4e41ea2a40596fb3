"""glibc's allocator settings, through ``ctypes``: what lets the memory probe measure training, not ``malloc``.

With glibc's defaults up to ~0.7 GB of freed activations stay resident in the heap, and a process's peak resident
set size then measures the allocator rather than training. While the probe's child measures its peak
(:mod:`helpers.challenge.probe_child`), every block of :data:`MMAP_THRESHOLD_BYTES` and more gets a memory mapping
of its own, handed back to the system as soon as it is freed; afterwards glibc's own ceiling is restored.
"""

from __future__ import annotations

import sys

MMAP_THRESHOLD_BYTES = 65536
"""glibc mmap threshold while the memory child measures its peak (64 KiB)."""
GLIBC_MAX_MMAP_THRESHOLD = 32 * 2**20
"""glibc's ``DEFAULT_MMAP_THRESHOLD_MAX`` on 64-bit systems: the threshold to restore after the measurement."""
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameter numbers (glibc malloc.h)


def set_mmap_threshold(nbytes: int, *, trim_threshold: int | None = None) -> bool:
    """Set glibc's mmap threshold to ``nbytes`` (and its trim threshold, if given), then trim the heap.

    Blocks of ``nbytes`` and more then get their own memory mapping, handed back to the system as soon as they are
    freed.

    Args:
        nbytes: the new mmap threshold, in bytes.
        trim_threshold: the new trim threshold in bytes (free memory at the top of the heap above it goes back to the
            system); ``None`` leaves it.

    Returns:
        Whether it worked (``False`` off Linux/glibc, e.g. on macOS, where memory is measured with the default
        allocator).
    """
    import ctypes

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        done = libc.mallopt(_M_MMAP_THRESHOLD, nbytes) == 1
        if trim_threshold is not None:
            libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return done


def restore_heap_reuse() -> bool:
    """glibc's own ceiling once large blocks have been freed (mmap threshold :data:`GLIBC_MAX_MMAP_THRESHOLD`, trim
    threshold twice that): fast reuse of the heap for the timed steps. Returns whether it worked."""
    return set_mmap_threshold(GLIBC_MAX_MMAP_THRESHOLD, trim_threshold=2 * GLIBC_MAX_MMAP_THRESHOLD)
