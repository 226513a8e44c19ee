"""What a figure was measured on, and who used the CPU while it was measured.

`machine()` describes the host and the code (CPU model, cores, RAM, Python, OS, git commit and whether
the working tree had uncommitted changes). `CpuMeter` reads /proc to split the CPU time of a window
between named process groups (the server, the database, the load generator) and everything else on the
machine — on a small shared box the "everything else" is part of the result.
"""
from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def ram_gib() -> float | None:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def git_info() -> dict:
    """The commit, and whether the tree measured had changes on top of it (tracked files modified,
    untracked source files) — a figure from a dirty tree is not the commit's figure."""
    lines = _git("status", "--porcelain").splitlines()
    modified = [line for line in lines if not line.startswith("??")]
    untracked = [line for line in lines if line.startswith("??")]
    return {"commit": _git("rev-parse", "HEAD") or None,
            "subject": _git("log", "-1", "--format=%s")[:120] or None,
            "dirty": bool(modified or untracked),
            "modified_files": len(modified), "untracked_paths": len(untracked)}


def loadavg() -> list[float] | None:
    text = _read("/proc/loadavg").split()
    return [float(x) for x in text[:3]] if len(text) >= 3 else None


def machine() -> dict:
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "ram_gib": ram_gib(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "git": git_info(),
        "loadavg_at_start": loadavg(),
    }


# ------------------------------------------------------------------ CPU accounting
def _proc_table() -> dict[int, tuple[int, float]]:
    """{pid: (ppid, cpu seconds used so far)} for every process we can read."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _read(f"/proc/{entry}/stat")
        if not stat:
            continue
        # the command name may contain spaces and parentheses: split after the last ')'
        rest = stat.rsplit(")", 1)[-1].split()
        try:
            ppid, utime, stime = int(rest[1]), int(rest[11]), int(rest[12])
        except (IndexError, ValueError):
            continue
        table[int(entry)] = (ppid, (utime + stime) / CLK_TCK)
    return table


def _busy_total() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = _read("/proc/stat").splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return (total - idle) / CLK_TCK, total / CLK_TCK


def descendants(roots: set[int], table: dict[int, tuple[int, float]]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _cpu) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, stack = set(), [r for r in roots if r in table]
    while stack:
        pid = stack.pop()
        if pid in out:
            continue
        out.add(pid)
        stack.extend(children.get(pid, []))
    return out


class CpuMeter:
    """CPU used during a window, in cores (1.0 = one core busy all the time), per group of process
    trees. `groups` maps a name to the root pids of its trees, e.g. {"server": {gunicorn_pid}}; the
    calling process counts as "load generator" unless it is in a group already."""

    def __init__(self, groups: dict[str, set[int]]):
        self.groups = groups

    def __enter__(self):
        self.t0 = time.monotonic()
        self.busy0, self.total0 = _busy_total()
        self.table0 = _proc_table()
        self.self0 = sum(os.times()[:2])
        return self

    def __exit__(self, *exc):
        self.elapsed = time.monotonic() - self.t0
        self.busy1, self.total1 = _busy_total()
        self.table1 = _proc_table()
        self.self1 = sum(os.times()[:2])
        return False

    def report(self) -> dict:
        elapsed = max(self.elapsed, 1e-9)
        used = {}
        claimed = set()
        for name, roots in self.groups.items():
            pids = descendants(set(roots), self.table1) | descendants(set(roots), self.table0)
            pids -= claimed
            claimed |= pids
            seconds = 0.0
            for pid in pids:
                after = self.table1.get(pid, (0, None))[1]
                before = self.table0.get(pid, (0, 0.0))[1]
                if after is not None:
                    seconds += max(after - before, 0.0)
            used[name] = seconds / elapsed
        if os.getpid() not in claimed:
            used["load generator"] = (self.self1 - self.self0) / elapsed
        busy = (self.busy1 - self.busy0) / elapsed
        cores = (self.total1 - self.total0) / elapsed
        used["everything else"] = max(busy - sum(used.values()), 0.0)
        return {"window_s": round(self.elapsed, 2), "machine_cores": round(cores, 2),
                "machine_busy_cores": round(busy, 2),
                "cores_used": {k: round(v, 2) for k, v in used.items()}}
