"""The benchmark framework: figures with units and targets, the context a benchmark runs in, and the
results it leaves behind (bench/results/<name>.json and bench/results/summary.md).

A benchmark is a function `run(ctx) -> dict` of named figures. A figure is a `Figure` or a plain dict
with the same keys; its target is a comparison with a number ("< 50", ">= 500"), checked here so that
every benchmark states its targets the same way. Anything that is not a figure but belongs with the
result (query plans, server settings, CPU accounting) goes in `ctx.detail(key, value)`; one-line
remarks for the Markdown summary go in `ctx.note(text)`.
"""
from __future__ import annotations

import json
import math
import operator
import os
import re
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import sysinfo

RESULTS_DIR = Path(__file__).resolve().parent / "results"

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_TARGET = re.compile(r"^\s*(<=|>=|<|>)\s*(-?[0-9.]+)\s*$")


@dataclass
class Figure:
    value: float | int | None
    unit: str
    target: str | None = None      # "< 50", ">= 500"; None when the figure is context, not a goal
    note: str = ""

    def __post_init__(self):
        if self.target is not None and not _TARGET.match(self.target):
            raise ValueError(f"target must look like '< 50' or '>= 500', got {self.target!r}")

    @property
    def status(self) -> str:
        """'pass', 'fail', or 'info' (no target); a figure with a target but no value fails."""
        if self.target is None:
            return "info"
        if self.value is None or (isinstance(self.value, float) and math.isnan(self.value)):
            return "fail"
        op, number = _TARGET.match(self.target).groups()
        return "pass" if _OPS[op](self.value, float(number)) else "fail"

    def to_json(self) -> dict:
        return {**asdict(self), "status": self.status}

    @classmethod
    def coerce(cls, value) -> Figure:
        if isinstance(value, Figure):
            return value
        if isinstance(value, dict):
            return cls(value=value.get("value"), unit=value.get("unit", ""), target=value.get("target"),
                       note=value.get("note", ""))
        raise TypeError(f"a figure must be a Figure or a dict with value/unit/target, got {type(value).__name__}")


@dataclass
class Context:
    """What a benchmark gets: its name, whether to run briefly (`quick`, for smoke runs), a scratch
    logger, and places to put details, notes and facts about the machine (e.g. the PostgreSQL version,
    which only the benchmark knows)."""

    name: str
    quick: bool = False
    options: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    machine: dict = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def log(self, message: str) -> None:
        print(f"[bench {self.name} {time.monotonic() - self.started:6.1f}s] {message}", flush=True)

    def detail(self, key: str, value) -> None:
        self.details[key] = value

    def note(self, text: str) -> None:
        self.notes.append(text)


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def run_benchmark(name: str, fn, *, title: str = "", results_dir: Path | str = RESULTS_DIR, quick: bool = False,
                  options: dict | None = None, command: str = "") -> dict:
    """Run one benchmark function in this process and write results_dir/<name>.json. Returns the
    result dict. An exception is recorded in the result (error + traceback) rather than raised, so one
    broken benchmark does not hide the others' figures."""
    ctx = Context(name=name, quick=quick, options=dict(options or {}))
    ctx.machine.update(sysinfo.machine())
    started_at, t0 = _now(), time.monotonic()
    figures, error = {}, None
    try:
        returned = fn(ctx) or {}
        figures = {key: Figure.coerce(value) for key, value in returned.items()}
    except Exception:  # noqa: BLE001 - reported in the result
        error = traceback.format_exc()
        ctx.log("failed:\n" + error)
    ctx.machine["loadavg_at_end"] = sysinfo.loadavg()
    result = {
        "benchmark": name,
        "title": title,
        "command": command,
        "quick": quick,
        "started_at": started_at,
        "duration_s": round(time.monotonic() - t0, 1),
        "machine": ctx.machine,
        "figures": {key: fig.to_json() for key, fig in figures.items()},
        "passed": sum(f.status == "pass" for f in figures.values()),
        "failed": sum(f.status == "fail" for f in figures.values()),
        "notes": ctx.notes,
        "details": ctx.details,
        "error": error,
    }
    write_result(result, results_dir)
    return result


def write_result(result: dict, results_dir: Path | str = RESULTS_DIR) -> Path:
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result['benchmark']}.json"
    _atomic_write(path, json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
    return path


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def load_results(results_dir: Path | str = RESULTS_DIR) -> list[dict]:
    out = []
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


# ------------------------------------------------------------------ presentation
def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3g}"
    return str(value)


_MARK = {"pass": "PASS", "fail": "FAIL", "info": ""}


def table_rows(result: dict) -> list[tuple[str, str, str, str, str]]:
    return [(key, _fmt(fig["value"]), fig["unit"], fig["target"] or "", _MARK[fig["status"]])
            for key, fig in result["figures"].items()]


def format_table(result: dict) -> str:
    """A plain-text table of one result for the terminal."""
    head = ("figure", "value", "unit", "target", "result")
    rows = table_rows(result)
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(5)]
    line = "  ".join
    out = [f"== {result['benchmark']}: {result.get('title') or ''}".rstrip(),
           line(h.ljust(w) for h, w in zip(head, widths)),
           line("-" * w for w in widths)]
    for r in rows:
        out.append(line([r[0].ljust(widths[0]), r[1].rjust(widths[1]), r[2].ljust(widths[2]),
                         r[3].ljust(widths[3]), r[4]]))
    if result.get("error"):
        out.append("ERROR: " + result["error"].strip().splitlines()[-1])
    out.append(f"{result['passed']} passed, {result['failed']} failed"
               f" ({result['duration_s']} s{', quick run' if result.get('quick') else ''})")
    return "\n".join(out)


def machine_line(machine: dict) -> str:
    git = machine.get("git") or {}
    commit = (git.get("commit") or "unknown")[:10] + (" + uncommitted changes" if git.get("dirty") else "")
    parts = [f"{machine.get('cpu_model', '?')}, {machine.get('cores', '?')} cores",
             f"{machine.get('ram_gib', '?')} GiB RAM", machine.get("python", "")]
    if machine.get("postgresql"):
        parts.append(f"PostgreSQL {machine['postgresql']}")
    parts.append(f"git {commit}")
    load = machine.get("loadavg_at_start")
    if load:
        parts.append(f"load average at start {load[0]:.2f}")
    return "; ".join(p for p in parts if p)


def write_summary(results_dir: Path | str = RESULTS_DIR) -> Path:
    """Rewrite summary.md from every result in the directory (the latest run of each benchmark)."""
    results_dir = Path(results_dir)
    results = load_results(results_dir)
    out = ["# GridCare benchmark results", "",
           "Written by `make bench` (`python -m bench.run`); one section per benchmark, from its latest run. "
           "Raw figures, query plans and CPU accounting are in the JSON file beside this one.", ""]
    for r in results:
        out += [f"## {r['benchmark']}" + (f" — {r['title']}" if r.get("title") else ""), "",
                f"Run {r['started_at']} in {r['duration_s']} s{' (quick run, not comparable)' if r.get('quick') else ''}. "
                f"Machine: {machine_line(r.get('machine') or {})}.", "",
                "| figure | value | unit | target | result |", "|---|---:|---|---|---|"]
        for row in table_rows(r):
            out.append("| " + " | ".join(row) + " |")
        out.append("")
        out.append(f"**{r['passed']} passed, {r['failed']} failed.**")
        if r.get("error"):
            out += ["", "The benchmark stopped with an error: `" + r["error"].strip().splitlines()[-1] + "`"]
        if r.get("notes"):
            out.append("")
            out += [f"- {n}" for n in r["notes"]]
        out.append("")
    path = results_dir / "summary.md"
    results_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, "\n".join(out))
    return path
