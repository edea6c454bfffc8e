"""Measuring this process's resident memory in tests (Linux /proc)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MB = 1024 * 1024


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


@contextmanager
def rss_growth_mb() -> Iterator[list[float]]:
    """Peak resident-memory growth over the block, in MB (VmHWM after resetting it, so earlier peaks don't hide it)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs Linux /proc to measure memory")
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # "5" resets the peak RSS counter (Linux >= 4.0)
        field = "VmHWM"
    except OSError:
        field = "VmRSS"  # without a resettable peak, the end value is the best we can see
    before = _status_kb("VmRSS")
    growth = [0.0]
    yield growth
    growth[0] = (_status_kb(field) - before) / 1024
