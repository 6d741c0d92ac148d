"""CPU seconds spent serving the load: gunicorn's processes and the PostgreSQL backends.

Throughput on a shared two-core machine says as much about the neighbours as about
the server. CPU time does not: requests served per CPU-second spent by the server
side (gunicorn's master and workers, and the PostgreSQL backends of the load test's
database) is the capacity of one core running flat out, whatever else ran at the
same time. Read from ``/proc`` (Linux only); the load generator's own CPU is
reported apart, because on a real deployment it runs elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` (all its threads); ``None`` once it has gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name, which may hold spaces, closed by the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children_of(pid: int) -> list[int]:
    """The direct children of ``pid`` (gunicorn's workers of its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class CpuMeter:
    """CPU seconds of a set of processes between :meth:`start` and :meth:`stop`.

    A process first seen at :meth:`stop` counts from zero (it started during the
    run); one that exited during the run is lost, which is why the load test keeps
    its database connections open (``CONN_MAX_AGE``).
    """

    at_start: dict[int, float] = field(default_factory=dict)
    spent: float = 0.0

    def start(self, pids: list[int]) -> None:
        self.at_start = {pid: s for pid in pids if (s := process_cpu_seconds(pid)) is not None}

    def stop(self, pids: list[int]) -> float:
        total = 0.0
        for pid in set(pids):
            now = process_cpu_seconds(pid)
            if now is not None:
                total += now - self.at_start.get(pid, 0.0)
        self.spent = total
        return total
