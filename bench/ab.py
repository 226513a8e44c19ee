"""A/B of the HTTP intake: two versions of the code, one database, bursts taken in turn.

    python -m bench.ab REF_A [REF_B]      (REF_B defaults to the working tree)

This machine's speed moves by a fifth and more between runs minutes apart (bench/README.md), so two
`python -m bench.run workorders` runs cannot show a change of a few per cent. Here both versions serve at
the same time from one embedded PostgreSQL with the same data (`gridcare serve`, Granian, AB_WORKERS
workers x 1 thread, no access log), and short closed-loop bursts go to A and B in turn (ABBA order), so a
slow minute hits both. Each burst reports orders/s and the CPU per order of the server and of PostgreSQL.
A ref is checked out in a temporary git worktree and served with its `src` first on PYTHONPATH; both refs
must have the same migrations (the database is migrated with the working tree's).

Settings: AB_ROUNDS (8), AB_DURATION seconds per burst (6), AB_CLIENTS (3), AB_WORKERS (3), AB_CUSTOMERS (5000).
Writes bench/results/ab/<A>-vs-<B>.json.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import loadgen, pg, sysinfo
from .bench_workorders import make_intakes, web_server
from .gridcare_env import ROOT, run_gridcare, setup_django

RESULTS = ROOT / "bench" / "results" / "ab"  # not beside the benchmarks: summary.md reads those


def _env_int(name, default):
    return int(os.environ.get(name, default))


def _tree(ref: str | None, scratch: Path) -> tuple[str, Path]:
    """(label, src directory) of a ref checked out in a worktree, or of the working tree for None."""
    if ref is None:
        return "working-tree", ROOT / "src"
    commit = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    path = scratch / f"tree-{commit}"
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), commit], cwd=ROOT, check=True,
                       capture_output=True)
    return f"{ref}@{commit}" if ref != commit else commit, path / "src"


def _serve(stack: contextlib.ExitStack, src: Path, env: dict, log: Path) -> tuple[int, subprocess.Popen]:
    """`bench_workorders.web_server` with the tree's `src` first on PYTHONPATH, checked to take precedence."""
    env = dict(env, PYTHONPATH=str(src))
    where = subprocess.run([sys.executable, "-c", "import gridcare; print(gridcare.__file__)"], env=env,
                           capture_output=True, text=True, check=True, cwd="/").stdout.strip()
    if not where.startswith(str(src)):
        raise RuntimeError(f"{src}: PYTHONPATH did not take precedence (gridcare imported from {where})")
    port, proc, _cmd = stack.enter_context(web_server(env, _env_int("AB_WORKERS", 3), 1, log))
    return port, proc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    parser.add_argument("ref_a")
    parser.add_argument("ref_b", nargs="?")
    args = parser.parse_args(argv)
    rounds, duration = _env_int("AB_ROUNDS", 8), float(os.environ.get("AB_DURATION", 6))
    clients = _env_int("AB_CLIENTS", 3)
    scratch = Path(tempfile.mkdtemp(prefix="gridcare-ab-"))
    trees = dict([_tree(args.ref_a, scratch), _tree(args.ref_b, scratch)])
    if len(trees) != 2:
        raise SystemExit("两个版本相同，无需比较")
    labels = list(trees)
    result = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": sysinfo.machine(),
              "settings": {"rounds": rounds, "burst_s": duration, "clients": clients,
                           "workers": _env_int("AB_WORKERS", 3), "customers": _env_int("AB_CUSTOMERS", 5000)},
              "versions": labels, "bursts": []}
    servers = {}
    stack = contextlib.ExitStack()
    try:
        with pg.scratch_database(print) as (url, _source):
            facts = pg.server_facts(url)
            result["postgresql"] = facts["version"]
            env = dict(os.environ, DATABASE_URL=url, GRIDCARE_DEBUG="0", GRIDCARE_LOG_LEVEL="WARNING",
                       GRIDCARE_VAR_DIR=str(scratch / "var"))
            run_gridcare(["migrate", "--noinput", "-v", "0"], env, scratch / "setup.log")
            run_gridcare(["demo-data", "--customers", str(result["settings"]["customers"]), "--only",
                          "org,grid,customers"], env, scratch / "setup.log")
            os.environ["GRIDCARE_VAR_DIR"] = env["GRIDCARE_VAR_DIR"]
            setup_django(url)
            from django.db import connections

            from gridcare.accounts.models import ApiToken, User
            from gridcare.customers.models import Customer
            from gridcare.grid.models import TransformerArea

            agents = list(User.objects.filter(role="agent", is_active=True).order_by("username"))
            tokens = [ApiToken.issue(a, "bench-ab")[1] for a in agents]
            accounts = list(Customer.objects.values_list("account_no", flat=True))
            taiqu = list(TransformerArea.objects.values_list("code", flat=True))
            connections.close_all()
            for label, src in trees.items():
                servers[label] = _serve(stack, src, env, scratch / f"server-{len(servers)}.log")
            seed = 0
            for label, (port, _proc) in servers.items():  # every worker imports everything before the clock
                loadgen.closed_loop("127.0.0.1", port, "/api/workorders/",
                                    make_intakes(300, accounts, taiqu, tokens, seed, f"abw{seed}"),
                                    concurrency=4, warmup=0, duration=30)
                seed += 1
            for r in range(rounds):
                for label in (labels if r % 2 == 0 else labels[::-1]):
                    port, proc = servers[label]
                    seed += 1
                    reqs = make_intakes(int(700 * (duration + 1)), accounts, taiqu, tokens, 1000 + seed,
                                        f"ab{int(time.time())}r{seed}")
                    with sysinfo.CpuMeter({"server": {proc.pid}, "postgres": {facts["postmaster_pid"]}}) as meter:
                        out = loadgen.closed_loop("127.0.0.1", port, "/api/workorders/", reqs,
                                                  concurrency=clients, warmup=1, duration=duration,
                                                  spread_over={proc.pid})
                    cores = meter.report()["cores_used"]
                    rate = out["throughput_per_s"] or 0.0
                    burst = {"round": r, "version": label, "orders_per_s": rate, "statuses": out["statuses"],
                             "p99_ms": out["latency_ms"]["p99"],
                             "connections_per_worker": (out.get("connections_per_worker") or {}).get("per_worker"),
                             "server_cpu_ms": round(cores["server"] / rate * 1000, 2) if rate else None,
                             "postgres_cpu_ms": round(cores["postgres"] / rate * 1000, 2) if rate else None}
                    result["bursts"].append(burst)
                    print(f"round {r} {label}: {rate}/s, CPU per order server {burst['server_cpu_ms']} ms + "
                          f"PostgreSQL {burst['postgres_cpu_ms']} ms, p99 {burst['p99_ms']} ms", flush=True)
    finally:
        stack.close()  # each server: SIGTERM, then its group killed after 30 s
        for path in scratch.glob("tree-*"):
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    summary = {}
    for label in labels:
        mine = [b for b in result["bursts"] if b["version"] == label]
        summary[label] = {k: statistics.median(b[k] for b in mine if b[k] is not None)
                          for k in ("orders_per_s", "server_cpu_ms", "postgres_cpu_ms")}
    a, b = ([x for x in result["bursts"] if x["version"] == v] for v in labels)
    ratios = [round(y["orders_per_s"] / x["orders_per_s"], 3) for x, y in zip(a, b) if x["orders_per_s"]]
    result["median"] = summary
    result["b_over_a_per_round"] = ratios
    result["b_over_a_median"] = statistics.median(ratios) if ratios else None
    for label in labels:
        s = summary[label]
        print(f"{label}: median {s['orders_per_s']} orders/s, CPU per order {s['server_cpu_ms']} + "
              f"{s['postgres_cpu_ms']} ms")
    print(f"B/A per round: {ratios}; median {result['b_over_a_median']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "-vs-".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", v) for v in labels) + ".json"
    (RESULTS / name).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"written: bench/results/ab/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
