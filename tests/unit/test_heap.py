"""Freed photo-sized memory goes back to the system (glibc's fixed mmap threshold)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mirada.heap import return_large_blocks

PROGRAM = """
import sys, threading
from mirada.heap import return_large_blocks
if sys.argv[1] == "fixed":
    assert return_large_blocks()
kept = []

def decode_photos():  # as a server thread does: photo-sized blocks, small objects between
    blocks = [bytearray(20 * 2**20)]
    del blocks[0]  # a first large free raises glibc's threshold, unless it is fixed
    for _ in range(12):  # Pillow's 16 MB blocks, 192 MB in all
        blocks.append(bytearray(16 * 2**20))
        kept.append(bytearray(600_000))
    del blocks[:]

thread = threading.Thread(target=decode_photos)
thread.start()
thread.join()
rss = next(line for line in open("/proc/self/status") if line.startswith("VmRSS:"))
print(int(rss.split()[1]) // 1024)
"""


def rss_after_freeing(mode: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True
    )
    return int(result.stdout)


@pytest.mark.skipif(not return_large_blocks(), reason="glibc only")
def test_freed_blocks_are_returned_with_a_fixed_threshold() -> None:
    assert rss_after_freeing("default") > rss_after_freeing("fixed") + 100
