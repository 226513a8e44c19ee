"""Run GridCare's benchmarks: `python -m bench.run [name ...]` (`make bench` runs them all).

Discovers bench/bench_<name>.py modules, runs each in a process of its own (a benchmark may set up
Django against its own database, start servers, load data), prints a table of its figures with
pass/fail against their targets, and writes bench/results/<name>.json and bench/results/summary.md.

Options: --list (names only), --quick (short smoke run: figures not comparable), --strict (exit 1 when a
target is missed; by default only a benchmark that breaks makes the exit status non-zero — on a small
shared machine a missed target is a finding to read, not a build failure). BENCH_QUICK=1 and
BENCH_STRICT=1 do the same from the environment.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import framework

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEFAULT_TIMEOUT = 30 * 60


def discover() -> dict[str, str]:
    """{name: module} for every bench/bench_<name>.py."""
    return {p.stem[len("bench_"):]: f"bench.{p.stem}" for p in sorted(BENCH_DIR.glob("bench_*.py"))}


def module_info(name: str) -> tuple[str, int]:
    """(title, timeout) of bench/bench_<name>.py, read from its source without importing it: the first
    line of the docstring, and a module-level `TIMEOUT = <seconds>` if there is one."""
    tree = ast.parse((BENCH_DIR / f"bench_{name}.py").read_text(encoding="utf-8"))
    doc = (ast.get_docstring(tree) or "").strip()
    timeout = DEFAULT_TIMEOUT
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "TIMEOUT" for t in node.targets):
            try:
                timeout = int(eval(compile(ast.Expression(node.value), "TIMEOUT", "eval"), {"__builtins__": {}}))
            except Exception:  # noqa: BLE001 - anything but constant arithmetic: keep the default
                pass
    return (doc.splitlines()[0].rstrip(".") if doc else ""), timeout


def run_child(name: str, quick: bool, results_dir: Path) -> int:
    """Run one benchmark in this process (the parent starts us with --child)."""
    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")  # so that servers and databases are torn down

    signal.signal(signal.SIGTERM, stop)
    module = importlib.import_module(discover()[name])
    command = "python -m bench.run " + name + (" --quick" if quick else "")
    result = framework.run_benchmark(name, module.run, title=module_info(name)[0], results_dir=results_dir,
                                     quick=quick, command=command)
    return 1 if result["error"] else 0


def run_parent(names: list[str], quick: bool, results_dir: Path) -> list[dict]:
    results = []
    for name in names:
        title, timeout = module_info(name)
        path = results_dir / f"{name}.json"
        started = time.time()
        cmd = [sys.executable, "-m", "bench.run", "--child", name, "--results-dir", str(results_dir)]
        if quick:
            cmd.append("--quick")
        print(f"\n===== benchmark {name} =====", flush=True)
        proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
        problem = None
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            problem = f"timed out after {timeout} s"
        except KeyboardInterrupt:
            problem = "interrupted"
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        result = None
        if path.exists() and path.stat().st_mtime >= started:
            result = json.loads(path.read_text(encoding="utf-8"))
        if result is None or problem:
            result = result or {"benchmark": name, "title": title, "quick": quick,
                                "started_at": framework._now(), "duration_s": round(time.time() - started, 1),
                                "machine": {}, "figures": {}, "passed": 0, "failed": 0, "notes": [],
                                "details": {}}
            result["error"] = problem or f"benchmark process exited with status {proc.returncode} without results"
            framework.write_result(result, results_dir)
        results.append(result)
        if problem == "interrupted":
            break
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1",
                        help="short smoke run; figures are not comparable")
    parser.add_argument("--strict", action="store_true", default=os.environ.get("BENCH_STRICT") == "1",
                        help="exit 1 when a target is missed")
    parser.add_argument("--results-dir", default=str(framework.RESULTS_DIR))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    results_dir = Path(args.results_dir)
    available = discover()
    if args.child:
        return run_child(args.child, args.quick, results_dir)
    if args.list:
        for name in available:
            title, timeout = module_info(name)
            print(f"{name:14s} {title}  (time limit {timeout // 60} min)")
        return 0
    unknown = [n for n in args.names if n not in available]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (available: {', '.join(available)})")
    results = run_parent(args.names or list(available), args.quick, results_dir)
    summary = framework.write_summary(results_dir)
    print()
    for result in results:
        print(framework.format_table(result))
        print()
    broken = [r["benchmark"] for r in results if r.get("error")]
    missed = sum(r["failed"] for r in results)
    print(f"Results: {', '.join(str(results_dir / (r['benchmark'] + '.json')) for r in results)}; summary: {summary}")
    if broken:
        print(f"Benchmarks that did not finish: {', '.join(broken)}")
    if missed:
        print(f"{missed} target(s) missed" + ("" if args.strict else " (use --strict to fail on missed targets)"))
    return 1 if broken or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
