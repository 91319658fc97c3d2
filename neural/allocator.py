"""Keep freed memory in the process for the next batch (glibc's allocator only).

glibc hands large freed blocks back to the operating system: blocks above its mmap threshold
are unmapped, and free memory at the top of the heap beyond its trim threshold is trimmed. A
rollout allocates and frees the same few-megabyte tensors at every step, so each was faulted in
page by page again: with both thresholds raised to :data:`REUSE_LIMIT_BYTES`, the bundled world
model predicts about 1.1x the frames/s at 64 px and batch 32 on 2 cores (benchmarks/
RESULTS.md). It is the in-process form of PyTorch's CPU tuning advice to run under another
allocator (jemalloc, tcmalloc).

The setting is process-wide and stays for the life of the process: memory the process freed is
kept (up to the limit) instead of being returned, so its resident size stays near its peak.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["REUSE_LIMIT_BYTES", "keep_freed_memory"]

REUSE_LIMIT_BYTES = 256 << 20
"""Largest block served from (and freed memory kept in) the heap: above a batch-32 rollout's
working set (at 64 MiB both the gain was gone: a rollout's freed tensors exceeded it)."""

_M_TRIM_THRESHOLD = -1  # <malloc.h>
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(limit_bytes: int = REUSE_LIMIT_BYTES) -> bool:
    """Raise glibc's mmap and trim thresholds to ``limit_bytes``; True where that was done.

    False, changing nothing, where the C library is not glibc (macOS, Windows, musl) or refuses
    the value. Setting either threshold turns off glibc's self-adjusting ones, and the trim
    threshold alone made the model 2.5x slower (every large tensor mapped afresh), so the trim
    threshold is set only after the mmap threshold was accepted.
    """
    if limit_bytes <= 0:
        raise ValueError(f"limit_bytes must be positive, got {limit_bytes}")
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # no glibc (musl names its C library otherwise)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    limit = min(limit_bytes, 2**31 - 1)
    return bool(mallopt(_M_MMAP_THRESHOLD, limit)) and bool(mallopt(_M_TRIM_THRESHOLD, limit))
