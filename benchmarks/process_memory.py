"""This process's memory in MB, as the benchmarks print it beside their timings (Linux: /proc/self/status).

Peak is the kernel's VmHWM, not getrusage's ru_maxrss, which execve keeps (getrusage(2)): a child process could report
what its parent held before it started."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb() -> float:
    """The most resident memory this process has held so far."""
    return _status_mb("VmHWM:")


def rss_mb() -> float:
    """Resident memory now."""
    return _status_mb("VmRSS:")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")
