"""Give large freed memory back to the system at once, so decoded photos do not stay.

glibc serves a large allocation with its own mapping, returned on free, but after the
first such free it raises that threshold to the freed size (up to 32 MB): Pillow's
16 MB blocks then come from the thread arenas and stay there, each gunicorn thread
keeping what its largest photo needed. A fixed threshold turns that adjustment off.
Elsewhere (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
LARGE_BLOCK_BYTES = 4 * 1024 * 1024


def return_large_blocks(threshold: int = LARGE_BLOCK_BYTES) -> bool:
    """Map allocations of ``threshold`` bytes or more on their own; True where it applies."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, threshold))
