"""Work-order engine: HTTP intake on PostgreSQL, near-breach query and SLA sweep over 1,000,000 open orders.

Targets (the issue): intake through the HTTP API at >= 500 orders/s sustained with p99 < 100 ms,
reported beside the raw single-row INSERT rate of the same database in the same run; with 1,000,000
open orders, `near_breach(unit)` < 50 ms and a sweep of 10,000 due orders < 5 s.

Phases, all against one scratch PostgreSQL database:
1. migrate; `gridcare demo-data --customers 20000` (org, staff, grid, customers); API tokens for the
   service centre's agents;
2. the real server (`gridcare serve --no-worker --no-access-log`, Granian on 127.0.0.1, or gunicorn with
   BENCH_WEB_SERVER=gunicorn) driven by a closed-loop load
   generator in this process (capacity and latency), then by an open-loop one at the target rate
   (does it keep up, and with what latency); every request a different intake with its own
   Idempotency-Key; afterwards the orders, their history events and audit rows are counted; then one
   batch of the intelligence sweep the intakes queued is run and timed (the deferred share of an order's
   cost);
3. the floor: the bare intake of bench/floor_urls.py (same server, middleware, django-ninja, token check
   and request schema; the same four rows by raw SQL and nothing else) on the same server configuration,
   so what the stack costs per intake is measured beside what the intake costs; its rows are deleted;
4. raw single-row INSERTs (autocommit) into a table shaped like workorders_workorder, same concurrency;
5. 1,000,000 open orders loaded with INSERT ... SELECT, VACUUM ANALYZE, then `near_breach()` for a
   供电所 and a county company (median of several runs, EXPLAIN ANALYZE kept in the JSON);
6. 10,000 of them made due, `sweep_sla()` called until nothing is left, timed.

The load generator, the server and PostgreSQL share the machine's cores; the CPU each used during the
load is recorded (details.intake.cpu) together with what other processes on the machine used.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

from . import loadgen, pg, sysinfo
from .gridcare_env import free_port as _free_port
from .gridcare_env import run_gridcare as _gridcare
from .gridcare_env import setup_django as _setup_django

TIMEOUT = 25 * 60  # seconds; the runner kills the benchmark after this

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WEB_SERVER = os.environ.get("BENCH_WEB_SERVER", "granian")  # the `gridcare serve --server` to measure


def _env_int(name, default):
    return int(os.environ.get(name, default))


def _env_float(name, default):
    return float(os.environ.get(name, default))


class Settings:
    """Sizes and durations; BENCH_* environment variables override them (quick mode shrinks them)."""

    def __init__(self, quick: bool):
        self.customers = _env_int("BENCH_CUSTOMERS", 2000 if quick else 20000)
        # web server workers x threads to try (a short closed-loop run each); the best is measured in full.
        # Sync workers (x1) first: CPU-bound requests in threads of one process queue on the GIL.
        # BENCH_WEB_WORKERS + BENCH_WEB_THREADS pin one configuration instead.
        pinned = os.environ.get("BENCH_WEB_WORKERS") and os.environ.get("BENCH_WEB_THREADS")
        configs = (f"{os.environ['BENCH_WEB_WORKERS']}x{os.environ['BENCH_WEB_THREADS']}" if pinned
                   else os.environ.get("BENCH_SERVER_CONFIGS", "3x1" if quick else "2x1,3x1,4x1,5x1,2x4"))
        self.server_configs = [tuple(int(x) for x in c.split("x")) for c in configs.split(",") if c]
        self.web_workers, self.web_threads = self.server_configs[0]
        self.tune_duration = _env_float("BENCH_TUNE_DURATION", 8)
        self.concurrency_env = os.environ.get("BENCH_CONCURRENCY")
        self.concurrency = int(self.concurrency_env or self.web_workers * self.web_threads)
        self.warmup = _env_float("BENCH_WARMUP", 2 if quick else 5)
        self.duration = _env_float("BENCH_DURATION", 4 if quick else 25)
        self.rate = _env_float("BENCH_RATE", 500)            # the target, offered in the open-loop phase
        self.rate_duration = _env_float("BENCH_RATE_DURATION", 4 if quick else 15)
        self.insert_duration = _env_float("BENCH_INSERT_DURATION", 3 if quick else 10)
        self.floor_duration = _env_float("BENCH_FLOOR_DURATION", 3 if quick else 10)
        self.open_orders = _env_int("BENCH_OPEN_ORDERS", 100_000 if quick else 1_000_000)
        self.due_orders = _env_int("BENCH_DUE_ORDERS", 2_000 if quick else 10_000)
        self.query_runs = _env_int("BENCH_QUERY_RUNS", 5 if quick else 9)
        self.deferred_tasks = _env_int("BENCH_DEFERRED_ORDERS", 200 if quick else 500)
        self.deferred_single = _env_int("BENCH_DEFERRED_SINGLE", 50 if quick else 200)
        self.max_requests = _env_int("BENCH_MAX_REQUESTS", 60_000)
        # BENCH_PHASES=intake,floor,raw,orders (orders = load + near_breach + sweep): run a part while tuning
        self.phases = [p for p in os.environ.get("BENCH_PHASES", "intake,floor,raw,orders").split(",") if p]

    def as_dict(self):
        return dict(vars(self))


# ------------------------------------------------------------------ realistic intakes
FAULT_TEXTS = {
    "single_no_power": ["客户来电反映家中突然停电，邻居家有电，总开关未跳闸，请尽快派人处理。",
                        "客户反映{time}起家里没电，表箱内空开正常，家中有老人，请尽快到场。"],
    "area_no_power": ["客户反映{place}整片停电，已持续约{n}分钟，请尽快抢修。",
                      "客户反映{place}多户同时停电，路灯也不亮，询问何时恢复。"],
    "voltage_problem": ["客户反映晚上电压偏低，灯光昏暗，空调无法启动，已持续{n}天。",
                        "客户反映家中电压忽高忽低，电器多次自动关机，担心损坏。"],
    "meter_fault": ["客户反映电能表显示屏黑屏，表箱有焦糊味，担心安全，请派人查看。",
                    "客户反映电表箱门损坏、表计松动，请派人检查。"],
    "safety_hazard": ["来电人反映{place}有电线断落在地面，存在安全隐患，请立即处理。",
                      "来电人反映{place}电杆倾斜，导线离地很低，车辆经过危险。"],
    "customer_side": ["客户反映家中部分插座无电，总闸正常，询问是否可上门检查。"],
}
COMPLAINT_TEXTS = {
    "frequent_outage": "客户投诉近两个月停电{n}次，严重影响生活和生意，要求说明原因并彻底解决。",
    "voltage": "客户投诉电压长期偏低，多次反映未解决，要求尽快改造线路。",
    "attitude": "客户投诉营业厅工作人员态度生硬，不耐烦解答问题，要求道歉。",
    "repair_timeliness": "客户投诉报修后抢修人员超过两小时才到达，要求说明情况。",
    "billing": "客户投诉本月电费比往月高出一倍，怀疑抄表有误，要求核查。",
    "outage_notice": "客户投诉{time}的计划停电未提前通知，冰箱内食物损坏。",
}
OTHER_TEXTS = {
    "inquiry": ["客户咨询阶梯电价的计算方法和本月所处档位。", "客户咨询本月电费金额及网上国网缴费方式。",
                "客户咨询{place}计划停电的具体起止时间。", "客户咨询峰谷分时电价如何申请。"],
    "service_request": ["客户申请居民新装用电，地址{place}，要求尽快装表。", "客户申请电能表校验，认为电表走得快。",
                        "客户申请办理更名过户，已准备好房产证明。", "客户申请增容至{n}千瓦。"],
    "opinion": ["客户对停电通知方式提出意见，希望通过短信提前告知。", "客户对营业厅排队时间长提出意见。"],
    "suggestion": ["客户建议在{place}增设电动汽车充电桩。", "客户建议电费账单增加用电量同比信息。"],
    "report": ["客户举报{place}有人私拉乱接电线疑似窃电。", "客户举报有人冒充供电公司人员上门收费。"],
    "praise": ["客户表扬抢修人员{name}师傅服务热情、处理迅速。", "客户表扬营业厅工作人员耐心细致。"],
}
PLACES = ["幸福小区3栋", "人民路与建设路交叉口", "青溪镇老街", "石桥村5组", "白沙工业园", "河湾新村", "云岭村委会旁",
          "桃源小区东门", "城南菜市场", "临川中学附近"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"

# (weight, fields): order types in roughly the proportions a county's 95598 traffic has
MIX = [(42, "fault_repair"), (12, "inquiry"), (10, "inquiry_closed"), (9, "complaint"), (10, "service_request"),
       (5, "opinion"), (3, "suggestion"), (2, "report"), (4, "praise"), (3, "fault_hazard")]


def make_intakes(n: int, accounts: list[str], taiqu: list[str], tokens: list[str], seed: int, run_id: str):
    """n prepared (body, headers) intakes: different customers, types, texts and Idempotency-Keys,
    spread over the agents' tokens."""
    rnd = random.Random(seed)
    kinds = [k for w, k in MIX for _ in range(w)]
    channels = ["hotline"] * 80 + ["app"] * 10 + ["wechat"] * 6 + ["web"] * 2 + ["hall"] * 2
    out = []
    for i in range(n):
        kind = rnd.choice(kinds)
        fill = {"place": rnd.choice(PLACES), "n": rnd.randint(2, 9), "time": f"{rnd.randint(6, 22)}点",
                "name": rnd.choice(SURNAMES)}
        body = {"channel": rnd.choice(channels), "account_no": rnd.choice(accounts)}
        if kind == "fault_repair":
            fk = rnd.choice(["single_no_power"] * 5 + ["area_no_power"] * 2 + ["voltage_problem", "meter_fault",
                                                                                  "customer_side"])
            body.update(order_type="fault_repair", fault_kind=fk, text=rnd.choice(FAULT_TEXTS[fk]))
        elif kind == "fault_hazard":  # a passer-by, not a customer: located by 台区
            body = {"channel": "hotline", "order_type": "fault_repair", "fault_kind": "safety_hazard",
                    "taiqu_code": rnd.choice(taiqu), "text": rnd.choice(FAULT_TEXTS["safety_hazard"]),
                    "caller_name": rnd.choice(SURNAMES) + "先生"}
        elif kind == "complaint":
            l2 = rnd.choice(list(COMPLAINT_TEXTS))
            body.update(order_type="complaint", category_l2=l2, text=COMPLAINT_TEXTS[l2])
            if rnd.random() < 0.02:
                body["channel"] = "12398"
        elif kind == "inquiry_closed":
            body.update(order_type="inquiry", text=rnd.choice(OTHER_TEXTS["inquiry"]), close_now=True,
                        reply="已在通话中向客户解释并告知办理渠道。")
        elif kind == "praise":
            body.update(order_type="praise", text=rnd.choice(OTHER_TEXTS["praise"]), close_now=True)
        else:
            body.update(order_type=kind, text=rnd.choice(OTHER_TEXTS[kind]))
        body["text"] = body["text"].format(**fill) + f"（来电{i % 97 + 1}）"
        if "account_no" in body and rnd.random() < 0.25:  # a relative or tenant calling for the account holder
            body["caller_name"] = rnd.choice(SURNAMES) + rnd.choice("女士先生")
            body["caller_phone"] = f"1{rnd.choice('3456789')}{rnd.randint(0, 999_999_999):09d}"
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[i % len(tokens)]}",
                   "Idempotency-Key": f"{run_id}-{uuid.UUID(int=rnd.getrandbits(128)).hex}"}
        out.append((json.dumps(body, ensure_ascii=False).encode(), headers))
    return out


# ------------------------------------------------------------------ Django, server






@contextmanager
def web_server(env, workers: int, threads: int, log_path: Path):
    """`gridcare serve --no-worker --no-access-log` (Granian, or BENCH_WEB_SERVER) on a free loopback port;
    yields (port, process, command). No access log: behind the intranet's reverse proxy the proxy keeps it.
    The floor phase passes DJANGO_SETTINGS_MODULE=bench.floor_settings and ROOT on PYTHONPATH in `env`."""
    port = _free_port()
    cmd = [str(BIN / "gridcare"), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--threads", str(threads), "--no-access-log",
           "--server", WEB_SERVER]
    log = open(log_path, "ab")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}; see {log_path}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start listening within 60 s") from None
                time.sleep(0.2)
        yield port, proc, " ".join(["gridcare", *cmd[1:]])
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


# ------------------------------------------------------------------ phases
def intake_phase(ctx, settings, env, url, workdir, facts):
    from django.db.models import Count

    from gridcare.accounts.models import ApiToken, User
    from gridcare.core.models import AuditLog
    from gridcare.customers.models import Customer
    from gridcare.grid.models import TransformerArea
    from gridcare.workorders.models import StageEvent, WorkOrder

    agents = list(User.objects.filter(role="agent", is_active=True).order_by("username"))
    tokens = [ApiToken.issue(a, "bench")[1] for a in agents]
    accounts = list(Customer.objects.values_list("account_no", flat=True))
    taiqu = list(TransformerArea.objects.values_list("code", flat=True))
    run_id = f"bench{int(time.time())}"
    closed_n = min(settings.max_requests, int(max(settings.rate * 3, 1500) * (settings.warmup + settings.duration)))
    open_n = int(settings.rate * (2 + settings.rate_duration)) + 10
    ctx.log(f"preparing {closed_n + open_n:,} intakes for {len(agents)} agents over {len(accounts):,} customers")
    intakes = make_intakes(closed_n + open_n, accounts, taiqu, tokens, seed=2026, run_id=run_id)
    closed_reqs, open_reqs = intakes[:closed_n], intakes[closed_n:]

    out = {"in_process": in_process_profile(ctx, make_intakes(400, accounts, taiqu, tokens, 11, run_id + "p"))}

    def warm(port, seed):
        # a few requests per worker so that every worker has imported everything before the clock starts
        loadgen.closed_loop("127.0.0.1", port, "/api/workorders/",
                            make_intakes(60, accounts, taiqu, tokens, seed, f"{run_id}w{seed}"),
                            concurrency=4, warmup=0, duration=60)

    if len(settings.server_configs) > 1:
        tuning = []
        pool = make_intakes(int(max(settings.rate * 3, 1500) * (2 + settings.tune_duration)) * len(settings.server_configs),
                            accounts, taiqu, tokens, seed=99, run_id=run_id + "t")
        per = len(pool) // len(settings.server_configs)
        for n, (workers, threads) in enumerate(settings.server_configs):
            conc = int(settings.concurrency_env or workers * threads)
            with web_server(env, workers, threads, workdir / "server.log") as (port, server, _cmd):
                warm(port, 100 + n)
                r = loadgen.closed_loop("127.0.0.1", port, "/api/workorders/", pool[n * per:(n + 1) * per],
                                        concurrency=conc, warmup=2, duration=settings.tune_duration,
                                        spread_over={server.pid})
            tuning.append({"workers": workers, "threads": threads, "clients": conc,
                           "throughput_per_s": r["throughput_per_s"], "latency_ms": r["latency_ms"],
                           "connections_per_worker": r.get("connections_per_worker")})
            ctx.log(f"tuning {workers}x{threads}, {conc} clients: {r['throughput_per_s']} orders/s, "
                    f"p99 {r['latency_ms']['p99']} ms")
        best = max(tuning, key=lambda t: t["throughput_per_s"] or 0)
        settings.web_workers, settings.web_threads, settings.concurrency = best["workers"], best["threads"], best["clients"]
        out["tuning"] = tuning
    with web_server(env, settings.web_workers, settings.web_threads, workdir / "server.log") as (port, server, cmd):
        ctx.detail("server_command", cmd)
        groups = {"web server": {server.pid}}
        if facts.get("postmaster_pid"):
            groups["PostgreSQL"] = {facts["postmaster_pid"]}
        warm(port, 7)
        ctx.log(f"closed loop: {settings.concurrency} clients, {settings.warmup:.0f} s warm-up + "
                f"{settings.duration:.0f} s (server: {settings.web_workers} workers x {settings.web_threads} threads)")
        with sysinfo.CpuMeter(groups) as meter:
            closed = loadgen.closed_loop("127.0.0.1", port, "/api/workorders/", closed_reqs,
                                         concurrency=settings.concurrency, warmup=settings.warmup,
                                         duration=settings.duration, spread_over={server.pid})
        closed["cpu"] = meter.report()
        ctx.log(f"  {closed['throughput_per_s']} orders/s, latency {closed['latency_ms']}, statuses {closed['statuses']}, "
                f"connections per worker {closed.get('connections_per_worker')}")
        ctx.log(f"  CPU (cores): {closed['cpu']['cores_used']}")
        ctx.log(f"open loop: {settings.rate:.0f} orders/s offered for {settings.rate_duration:.0f} s")
        with sysinfo.CpuMeter(groups) as meter:
            opened = loadgen.open_loop("127.0.0.1", port, "/api/workorders/", open_reqs, rate=settings.rate,
                                       duration=settings.rate_duration, warmup=2, clients=48)
        opened["cpu"] = meter.report()
        ctx.log(f"  {opened['throughput_per_s']} orders/s, latency {opened['latency_ms']}, gave up: {opened['gave_up']}")
        # idempotency still holds under load: replaying an intake returns the first order (200)
        replay = loadgen.closed_loop("127.0.0.1", port, "/api/workorders/", closed_reqs[:20], concurrency=2,
                                     warmup=0, duration=30, expect=(200,))
    ok_201 = sum(int(r["statuses"].get("201", 0)) for r in (closed, opened))
    created = WorkOrder.objects.filter(idempotency_key__startswith=run_id + "-")
    n_orders = created.count()
    n_events = StageEvent.objects.filter(order__in=created, kind="create").count()
    n_audit = AuditLog.objects.filter(content_type__model="workorder", action="create",
                                      object_pk__in=[str(pk) for pk in created.values_list("pk", flat=True)]).count()
    by_type = dict(created.values_list("order_type").annotate(n=Count("id")))
    integrity = {"orders_with_run_keys": n_orders, "created_201_in_windows": ok_201,
                 "create_events": n_events, "create_audit_rows": n_audit,
                 "replayed_keys_answered_200": replay["statuses"].get("200", 0), "replayed": 20,
                 "orders_by_type": by_type}
    ctx.log(f"integrity: {integrity}")
    if not (n_events == n_orders == n_audit) or integrity["replayed_keys_answered_200"] != 20:
        ctx.note(f"INTEGRITY PROBLEM after the load: {integrity}")
    out.update(closed=closed, open=opened, integrity=integrity)
    return out


def in_process_profile(ctx, intakes):
    """The same intakes through Django's test client in this process, one at a time: SQL statements per
    intake and CPU time per intake without HTTP, threads or other load in the way (CPU time, not wall
    time, so it says little about the database but much about the Python side)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()

    def post(body, headers):
        extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"}
        return client.post("/api/workorders/", body, content_type="application/json", **extra)

    for body, headers in intakes[:50]:  # warm-up: imports, caches, the calendar
        post(body, headers)
    measured = intakes[50:300]
    c0, w0 = time.process_time(), time.perf_counter()
    statuses = [post(body, headers).status_code for body, headers in measured]
    cpu = (time.process_time() - c0) / len(measured)
    wall = (time.perf_counter() - w0) / len(measured)
    counts = []
    for body, headers in intakes[300:]:
        with CaptureQueriesContext(connection) as captured:
            post(body, headers)
        counts.append(len([q for q in captured.captured_queries
                           if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]))
    out = {"intakes": len(measured), "cpu_ms_per_intake": round(cpu * 1000, 2),
           "wall_ms_per_intake": round(wall * 1000, 2), "statuses": dict(Counter(str(x) for x in statuses)),
           "sql_statements_per_intake": round(statistics.mean(counts), 1), "sql_statements_max": max(counts)}
    ctx.log(f"in process: {out}")
    return out


def deferred_phase(ctx, settings, facts):
    """The work an intake leaves for the task worker: the intelligence sweep (the classifier's suggestion
    and the repeat search of each order taken), measured on the queue the intake phase filled (the server
    ran without a worker). `process_pending` is called here as the sweep task calls it: one small batch
    first (model loaded), then one batch of `settings.deferred_tasks` orders, timed with the CPU of this
    process and of PostgreSQL. For comparison, the next `settings.deferred_single` queued orders are done one
    at a time, as the former task per order did (`after_intake_task`, without the queue's own per-task
    work)."""
    from gridcare.intelligence import services
    from gridcare.intelligence.models import PendingIntake
    from gridcare.intelligence.tasks import after_intake_task

    backlog = PendingIntake.objects.count()
    services.process_pending(batch=20)
    groups = {"PostgreSQL": {facts["postmaster_pid"]}} if facts.get("postmaster_pid") else {}
    c0 = time.process_time()
    with sysinfo.CpuMeter(groups) as meter:
        done = services.process_pending(batch=settings.deferred_tasks)
    sweep_cpu = time.process_time() - c0
    rep = meter.report()
    n = max(done["orders"], 1)
    pg_cpu = rep["cores_used"].get("PostgreSQL", 0) * rep["window_s"]
    out = {"backlog_before": backlog, "orders": done["orders"], "repeat_candidates": done["repeats"],
           "seconds": rep["window_s"], "sweep_cpu_ms_per_order": round(sweep_cpu / n * 1000, 2),
           "postgres_cpu_ms_per_order": round(pg_cpu / n * 1000, 2),
           "cpu_ms_per_order": round((sweep_cpu + pg_cpu) / n * 1000, 2),
           "orders_per_s_one_worker": round(done["orders"] / max(rep["window_s"], 1e-9), 1), "cpu": rep}
    single = list(PendingIntake.objects.order_by("id").values_list("order_id", "user_id")[:settings.deferred_single])
    if single:
        c0 = time.process_time()
        with sysinfo.CpuMeter(groups) as meter:
            for order_id, user_id in single:
                after_intake_task.func(order_id, user_id)
        one_cpu = time.process_time() - c0
        rep = meter.report()
        one_pg = rep["cores_used"].get("PostgreSQL", 0) * rep["window_s"]
        out["one_at_a_time"] = {"orders": len(single), "cpu_ms_per_order": round((one_cpu + one_pg) / len(single) * 1000, 2),
                                "python_cpu_ms_per_order": round(one_cpu / len(single) * 1000, 2),
                                "postgres_cpu_ms_per_order": round(one_pg / len(single) * 1000, 2)}
    ctx.log(f"deferred work: {out}")
    return out


RAW_COLUMNS = ("order_no", "order_type", "channel", "category_l1", "category_l2", "fault_kind", "customer_id",
               "caller_name", "caller_phone", "area_kind", "unit_id", "transformer_area_id", "text", "reply", "stage",
               "status", "accepted_at", "stage_entered_at", "stage_limit_key", "stage_due_at", "stage_warn_at",
               "sla_state", "suspended", "escalation", "escalation_reason", "urge_count", "reject_count",
               "satisfaction", "visit_count", "quality_flags", "idempotency_key")


def floor_phase(ctx, settings, env, url, workdir, facts):
    """The bare intake of bench/floor_urls.py on the same server configuration and load as the intake
    phase: what the stack itself costs per intake (the web server, Django, django-ninja, token check, the four
    rows written), so the distance between it and the real intake is the intake's own work."""
    from gridcare.accounts.models import ApiToken, User
    from gridcare.customers.models import Customer
    from gridcare.grid.models import TransformerArea

    agents = list(User.objects.filter(role="agent", is_active=True).order_by("username"))
    tokens = [ApiToken.issue(a, "bench-floor")[1] for a in agents]
    accounts = list(Customer.objects.values_list("account_no", flat=True))
    taiqu = list(TransformerArea.objects.values_list("code", flat=True))
    run_id = f"floor{int(time.time())}"
    n = int(max(settings.rate * 3, 1500) * (2 + settings.floor_duration))
    reqs = make_intakes(n + 200, accounts, taiqu, tokens, seed=404, run_id=run_id)
    floor_env = dict(env, DJANGO_SETTINGS_MODULE="bench.floor_settings",
                     PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p))
    with web_server(floor_env, settings.web_workers, settings.web_threads, workdir / "floor.log") as (port, server, _c):
        groups = {"web server": {server.pid}}
        if facts.get("postmaster_pid"):
            groups["PostgreSQL"] = {facts["postmaster_pid"]}
        loadgen.closed_loop("127.0.0.1", port, "/api/workorders/", reqs[:200], concurrency=4, warmup=0, duration=60)
        with sysinfo.CpuMeter(groups) as meter:
            result = loadgen.closed_loop("127.0.0.1", port, "/api/workorders/", reqs[200:],
                                         concurrency=settings.concurrency, warmup=2, duration=settings.floor_duration,
                                         spread_over={server.pid})
        result["cpu"] = meter.report()
    with pg.connect(url) as conn:  # the floor's orders leave nothing behind for the later phases
        ids = "SELECT id FROM workorders_workorder WHERE order_no LIKE 'F%'"
        conn.execute(f"DELETE FROM intelligence_pendingintake WHERE order_id IN ({ids})")
        conn.execute(f"DELETE FROM workorders_stageevent WHERE order_id IN ({ids})")
        conn.execute("DELETE FROM core_auditlog WHERE content_type_id = "
                     "(SELECT id FROM django_content_type WHERE app_label = 'workorders' AND model = 'workorder') "
                     f"AND object_pk IN (SELECT id::text FROM ({ids}) f)")
        result["deleted_orders"] = conn.execute("DELETE FROM workorders_workorder WHERE order_no LIKE 'F%'").rowcount
    result.update(workers=settings.web_workers, threads=settings.web_threads)
    return result


def raw_insert_phase(ctx, settings, url):
    """Single-row INSERTs into a copy of workorders_workorder's shape (same columns, defaults and
    indexes; no foreign keys), one transaction each, at the intake phase's concurrency."""
    with pg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_insert")
        conn.execute("CREATE TABLE bench_raw_insert (LIKE workorders_workorder INCLUDING ALL)")
        sample = conn.execute("SELECT id, unit_id, transformer_area_id FROM customers_customer "
                              "ORDER BY id LIMIT 1").fetchone()
    sql = (f"INSERT INTO bench_raw_insert ({', '.join(RAW_COLUMNS)}) VALUES ("
           + ", ".join(["%s"] * len(RAW_COLUMNS)) + ")")
    run = uuid.uuid4().hex[:8]

    def params(i):
        now = datetime.now(timezone.utc)
        return (f"R{run}{i:07d}", "fault_repair", "hotline", "", "", "single_no_power", sample[0], "张三",
                "13900000001", "urban", sample[1], sample[2], FAULT_TEXTS["single_no_power"][0], "", "accepted", "open",
                now, now, "dispatch", now + timedelta(minutes=3), now + timedelta(seconds=135), 0, False, 0, "", 0, 0,
                "", 0, "[]", f"raw-{run}-{i}")

    result = pg.insert_rate(url, sql, params, concurrency=settings.concurrency, duration=settings.insert_duration)
    with pg.connect(url) as conn:
        conn.execute("DROP TABLE bench_raw_insert")
    return result


# (weight, order_type, stage, limit key, minutes, clock starts at acceptance?) — working days as 1.4 calendar days
PROFILES = [
    (3, "fault_repair", "accepted", "dispatch", 3, False),
    (12, "fault_repair", "dispatched", "arrival", None, False),
    (8, "fault_repair", "arrived", "restoration_after_arrival", None, False),
    (4, "fault_repair", "restored", "reply_after_restoration", 30, False),
    (1, "complaint", "accepted", "dispatch", 20, False),
    (2, "complaint", "dispatched", "receive", 120, False),
    (4, "complaint", "received", "contact", 2016, False),
    (8, "complaint", "contacted", "handle", 10080, True),
    (2, "complaint", "audited", "visit", 2016, False),
    (20, "service_request", "received", "handle", 10080, True),
    (4, "service_request", "audited", "visit", 2016, False),
    (10, "inquiry", "accepted", "handle", 2016, True),
    (6, "opinion", "received", "handle", 18144, True),
    (3, "report", "received", "handle", 18144, True),
    (3, "suggestion", "dispatched", "handle", 18144, True),
]
SYNTH_TEXTS = [t for texts in FAULT_TEXTS.values() for t in texts] + list(COMPLAINT_TEXTS.values()) + \
    [t for texts in OTHER_TEXTS.values() for t in texts]

LOAD_SQL = """
INSERT INTO workorders_workorder (order_no, order_type, channel, category_l1, category_l2, fault_kind, customer_id,
    caller_name, caller_phone, area_kind, unit_id, transformer_area_id, text, reply, stage, status, assignee_id,
    accepted_at, stage_entered_at, stage_limit_key, stage_due_at, stage_warn_at, sla_state, suspended, escalation,
    escalation_reason, urge_count, reject_count, satisfaction, visit_count, quality_flags, idempotency_key)
SELECT 'B' || lpad(q.i::text, 15, '0'), q.order_type,
       CASE WHEN q.rch < 0.8 THEN 'hotline' WHEN q.rch < 0.9 THEN 'app' WHEN q.rch < 0.96 THEN 'wechat' ELSE 'web' END,
       CASE WHEN q.order_type = 'complaint' THEN 'power_quality' ELSE '' END,
       CASE WHEN q.order_type = 'complaint' THEN 'frequent_outage' ELSE '' END,
       CASE WHEN q.order_type = 'fault_repair' THEN 'single_no_power' ELSE '' END,
       q.customer_id, q.name, q.phone, q.area_kind, q.unit_id, q.transformer_area_id,
       (%(texts)s::text[])[1 + floor(q.rt * %(ntexts)s)::int], '', q.stage, 'open', q.assignee_id,
       CASE WHEN q.from_acceptance THEN q.clock_start ELSE q.clock_start - q.ra * interval '2 days' END,
       CASE WHEN q.from_acceptance THEN q.clock_start + q.ra * (%(ref)s - q.clock_start) ELSE q.clock_start END,
       q.limit_key, q.clock_start + q.lim, q.clock_start + q.lim * 0.75,
       CASE WHEN q.clock_start + q.lim <= %(ref)s THEN 2 WHEN q.clock_start + q.lim * 0.75 <= %(ref)s THEN 1 ELSE 0 END,
       false, 0, '', 0, 0, '', 0, '[]'::jsonb, NULL
FROM (
    SELECT r.i, r.rch, r.rt, r.ra, p.order_type, p.stage, p.limit_key, p.from_acceptance,
           c.id AS customer_id, c.name, c.phone, c.area_kind, c.transformer_area_id,
           CASE WHEN r.ru < 0.05 THEN c.parent_unit_id ELSE c.unit_id END AS unit_id,
           CASE WHEN p.stage <> 'accepted' AND r.ru >= 0.05 AND s.ids IS NOT NULL
                THEN s.ids[1 + floor(r.rs * array_length(s.ids, 1))::int] END AS assignee_id,
           l.lim,
           %(ref)s - (r.re * 1.08) * l.lim AS clock_start
    FROM (SELECT g AS i, random() AS rc, random() AS rp, random() AS re, random() AS ra, random() AS ru,
                 random() AS rs, random() AS rt, random() AS rch
          FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g OFFSET 0) r
    JOIN bench_cust c ON c.rn = 1 + floor(r.rc * %(ncust)s)::int
    JOIN bench_prof p ON r.rp >= p.lo AND r.rp < p.hi
    LEFT JOIN bench_staff s ON s.unit_id = c.unit_id
    CROSS JOIN LATERAL (SELECT make_interval(mins => CASE
        WHEN p.limit_key = 'arrival' THEN CASE c.area_kind WHEN 'urban' THEN 45 WHEN 'rural' THEN 90 ELSE 120 END
        WHEN p.limit_key = 'restoration_after_arrival' THEN CASE c.area_kind WHEN 'urban' THEN 180 ELSE 240 END
        ELSE p.minutes END) AS lim) l
) q
"""


def load_open_orders(ctx, url, n_target, ref):
    """Fill workorders_workorder up to n_target open orders with INSERT ... SELECT (in chunks, one
    statement each), deadlines spread so that at `ref` about 7 % are overdue and 23 % near breach;
    the SLA state is what the sweep would have set by `ref`."""
    with pg.connect(url) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        have = conn.execute("SELECT count(*) FROM workorders_workorder WHERE status = 'open'").fetchone()[0]
        n = max(n_target - have, 0)
        conn.execute("""CREATE TEMP TABLE bench_cust AS
            SELECT row_number() OVER (ORDER BY c.id) AS rn, c.id, c.unit_id, u.parent_id AS parent_unit_id,
                   c.transformer_area_id, c.area_kind, c.name, c.phone
            FROM customers_customer c JOIN accounts_orgunit u ON u.id = c.unit_id""")
        conn.execute("CREATE UNIQUE INDEX ON bench_cust (rn)")
        ncust = conn.execute("SELECT count(*) FROM bench_cust").fetchone()[0]
        conn.execute("CREATE TEMP TABLE bench_staff AS SELECT unit_id, array_agg(id ORDER BY id) AS ids "
                     "FROM accounts_user WHERE role IN ('handler', 'field') AND is_active GROUP BY unit_id")
        conn.execute("CREATE TEMP TABLE bench_prof (lo float8, hi float8, order_type text, stage text, limit_key text, "
                     "minutes int, from_acceptance bool)")
        total, acc = sum(p[0] for p in PROFILES), 0.0
        with conn.cursor() as cur:
            for weight, order_type, stage, key, minutes, from_acc in PROFILES:
                lo, acc = acc, acc + weight / total
                cur.execute("INSERT INTO bench_prof VALUES (%s, %s, %s, %s, %s, %s, %s)",
                            (lo, 1.0 + 1e-9 if acc > 0.999999 else acc, order_type, stage, key, minutes, from_acc))
        # Bulk-load practice: the plain indexes are dropped and built again afterwards (what `pg_restore`
        # does), and the generated rows, which reference existing rows by construction, skip the
        # foreign-key triggers when the role may do that. The indexes are recreated from their own
        # definitions and checked to be the same set.
        indexes = conn.execute("""SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = 'workorders_workorder'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ORDER BY 1""").fetchall()
        try:
            conn.execute("SET session_replication_role = replica")
            triggers = "foreign-key triggers off for the load"
        except psycopg.Error:
            triggers = "foreign-key triggers on (not allowed to switch them off)"
        chunk, first, t0 = 250_000, 1, time.monotonic()
        for name, _definition in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        try:
            while first <= n:
                last = min(first + chunk - 1, n)
                conn.execute(LOAD_SQL, {"texts": SYNTH_TEXTS, "ntexts": len(SYNTH_TEXTS), "ref": ref, "first": first,
                                        "last": last, "ncust": ncust})
                ctx.log(f"  loaded {last:,} of {n:,} orders ({time.monotonic() - t0:.0f} s)")
                first = last + 1
        finally:
            if "off" in triggers:
                conn.execute("SET session_replication_role = DEFAULT")
            t1 = time.monotonic()
            for _name, definition in indexes:
                conn.execute(definition)
            index_s = time.monotonic() - t1
        after = conn.execute("""SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = 'workorders_workorder'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ORDER BY 1""").fetchall()
        if after != indexes:
            raise RuntimeError(f"indexes differ after the load: {indexes} != {after}")
        ctx.log(f"  {len(indexes)} indexes built again in {index_s:.0f} s ({triggers})")
        load_s = time.monotonic() - t0
        # a table in service is vacuumed by autovacuum; without it the visibility map is empty and no
        # index-only scan is possible
        t1 = time.monotonic()
        conn.execute("VACUUM (ANALYZE) workorders_workorder")
        vacuum_s = time.monotonic() - t1
        visible = conn.execute("SELECT relallvisible::float / greatest(relpages, 1) FROM pg_class "
                               "WHERE oid = 'workorders_workorder'::regclass").fetchone()[0]
        holders = conn.execute("""SELECT pid, state, backend_xmin, left(query, 80) FROM pg_stat_activity
            WHERE backend_xmin IS NOT NULL AND pid <> pg_backend_pid()""").fetchall()
        ctx.log(f"  VACUUM ANALYZE in {vacuum_s:.1f} s; {visible:.0%} of the pages all-visible"
                + (f"; sessions holding back the xmin horizon: {holders}" if holders else ""))
        stats = conn.execute("""SELECT count(*) FILTER (WHERE status = 'open'),
                   count(*) FILTER (WHERE status = 'open' AND stage_due_at <= %(ref)s),
                   count(*) FILTER (WHERE status = 'open' AND stage_warn_at <= %(ref)s AND stage_due_at > %(ref)s),
                   count(*), pg_size_pretty(pg_total_relation_size('workorders_workorder'))
            FROM workorders_workorder""", {"ref": ref}).fetchone()
    return {"inserted": n, "load_s": round(load_s, 1), "rows_per_s": round(n / load_s) if load_s else None,
            "indexes_rebuilt": [name for name, _d in indexes], "index_build_s": round(index_s, 1), "triggers": triggers,
            "vacuum_analyze_s": round(vacuum_s, 1), "all_visible_fraction": round(visible, 3), "open_orders": stats[0], "overdue_at_ref": stats[1],
            "near_breach_at_ref": stats[2], "all_orders": stats[3], "table_size_with_indexes": stats[4]}


def _indexes_in(plan: str) -> list[str]:
    return sorted(set(re.findall(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)",
                                 plan)))


def near_breach_phase(ctx, settings, ref):
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from gridcare.accounts.models import OrgUnit
    from gridcare.workorders.models import WorkOrder
    from gridcare.workorders.services import near_breach

    per_unit = dict(WorkOrder.objects.filter(status="open").values_list("unit_id").annotate(n=Count("id")))
    units = {u.pk: u for u in OrgUnit.objects.filter(kind__in=["station", "county"])}
    station = max((u for u in units.values() if u.kind == "station"), key=lambda u: per_unit.get(u.pk, 0))
    county = max((u for u in units.values() if u.kind == "county"),
                 key=lambda u: sum(n for pk, n in per_unit.items() if pk in units and units[pk].path.startswith(u.path)))
    results = {}
    for label, unit in (("station", station), ("county", county)):
        def once():
            t0 = time.perf_counter()
            qs = near_breach(unit, now=ref)
            page = list(qs[:50])
            t1 = time.perf_counter()
            count = qs.count()
            t2 = time.perf_counter()
            return t2 - t0, t1 - t0, t2 - t1, len(page), count

        once()  # the first call after loading warms the caches; production's are warm too
        runs = [once() for _ in range(settings.query_runs)]
        with CaptureQueriesContext(connection) as captured:
            once()
        plans = []
        with connection.cursor() as cur:
            for q in captured.captured_queries:
                if "workorders_workorder" not in q["sql"]:
                    continue
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                plan = "\n".join(row[0] for row in cur.fetchall())
                plans.append({"sql": q["sql"], "plan": plan, "indexes": _indexes_in(plan)})
        subtree_orders = sum(n for pk, n in per_unit.items() if pk in units and units[pk].path.startswith(unit.path)) \
            if label == "county" else per_unit.get(unit.pk, 0)
        results[label] = {
            "unit": f"{unit.code} {unit.name}", "open_orders_in_subtree": subtree_orders,
            "near_breach_count": runs[0][4], "page_rows": runs[0][3],
            "median_ms": round(statistics.median(r[0] for r in runs) * 1000, 2),
            "max_ms": round(max(r[0] for r in runs) * 1000, 2),
            "page_median_ms": round(statistics.median(r[1] for r in runs) * 1000, 2),
            "count_median_ms": round(statistics.median(r[2] for r in runs) * 1000, 2),
            "runs_ms": [round(r[0] * 1000, 2) for r in runs], "plans": plans}
        ctx.log(f"near_breach({unit.code}): median {results[label]['median_ms']} ms "
                f"(page {results[label]['page_median_ms']}, count {results[label]['count_median_ms']}); "
                f"{runs[0][4]:,} near breach of {subtree_orders:,}; indexes {[p['indexes'] for p in plans]}")
    return results


def sweep_phase(ctx, settings, url, ref):
    from gridcare.notifications.models import Notification
    from gridcare.workorders.models import StageEvent
    from gridcare.workorders.tasks import sweep_sla

    # the scheduler has been running all along: orders that ran out of time before `ref` (the intake
    # phase's, e.g. 3-minute dispatch clocks) are marked first, untimed, so the timed sweep sees exactly
    # the orders made due below
    while any(sweep_sla(now=ref).values()):
        pass
    with pg.connect(url) as conn:
        ids = [r[0] for r in conn.execute(
            """UPDATE workorders_workorder w
               SET stage_due_at = %(ref)s - make_interval(mins => 1 + (w.id %% 120)::int),
                   stage_warn_at = %(ref)s - make_interval(mins => 1 + (w.id %% 120)::int)
                                   - (w.stage_due_at - w.stage_warn_at)
               WHERE w.id IN (SELECT id FROM workorders_workorder
                              WHERE status = 'open' AND sla_state = 0 AND stage_due_at > %(ref)s
                              ORDER BY random() LIMIT %(n)s)
               RETURNING w.id""", {"ref": ref, "n": settings.due_orders}).fetchall()]
    events_before = StageEvent.objects.filter(kind="sla").count()
    notes_before = Notification.objects.count()
    calls = []
    t0 = time.perf_counter()
    while True:
        c0 = time.perf_counter()
        result = sweep_sla(now=ref)
        calls.append({"result": result, "ms": round((time.perf_counter() - c0) * 1000, 1)})
        if not any(result.values()):
            break
        if len(calls) > 100:
            raise RuntimeError("sweep_sla() kept finding orders after 100 calls")
    total = time.perf_counter() - t0
    swept = sum(sum(c["result"].values()) for c in calls)
    with pg.connect(url) as conn:
        marked = conn.execute("SELECT count(*) FROM workorders_workorder WHERE id = ANY(%s) AND sla_state = 2",
                              (ids,)).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM workorders_stageevent WHERE kind = 'sla' AND order_id = ANY(%s)",
                              (ids,)).fetchone()[0]
    out = {"made_due": len(ids), "swept": swept, "marked_overdue": marked, "their_sla_events": events,
           "seconds": round(total, 3),
           "calls": calls, "sla_events_written": StageEvent.objects.filter(kind="sla").count() - events_before,
           "notifications_written": Notification.objects.count() - notes_before}
    ctx.log(f"sweep: {swept:,} orders in {len(calls)} calls, {total:.2f} s; "
            f"{out['sla_events_written']:,} events, {out['notifications_written']:,} notifications")
    if not (marked == events == swept == len(ids)):
        ctx.note(f"SWEEP PROBLEM: made {len(ids)} due, swept {swept}, {marked} marked overdue, "
                 f"{events} SLA events for them")
    return out


# ------------------------------------------------------------------ the benchmark
def _intake_figures(ctx, settings, intake, figures):
    closed, opened = intake["closed"], intake["open"]
    figures["intake_throughput"] = {
        "value": closed["throughput_per_s"], "unit": "orders/s", "target": f">= {settings.rate:g}",
        "note": f"closed loop, {closed['concurrency']} clients, {closed['duration_s']:.0f} s"}
    for p in ("p50", "p95", "p99"):
        figures[f"intake_latency_{p}"] = {"value": closed["latency_ms"][p], "unit": "ms",
                                          "target": "< 100" if p == "p99" else None}
    figures["intake_at_target_rate"] = {
        "value": opened["throughput_per_s"], "unit": "orders/s", "target": f">= {settings.rate * 0.98:g}",
        "note": f"open loop, {settings.rate:g}/s offered" + ("; could not keep up, stopped early" if opened["gave_up"]
                                                             else "")}
    figures["intake_at_target_rate_p99"] = {"value": opened["latency_ms"]["p99"], "unit": "ms", "target": "< 100"}
    used, rate = closed["cpu"]["cores_used"], closed["throughput_per_s"] or None
    if rate:
        # CPU per order is what decides capacity on a small machine, and it moves much less than
        # throughput when other processes compete for the cores
        figures["server_cpu_per_order"] = {"value": round(used.get("web server", 0) / rate * 1000, 2),
                                           "unit": "ms", "note": f"{WEB_SERVER} workers' CPU / orders"}
        if "PostgreSQL" in used:
            figures["postgres_cpu_per_order"] = {"value": round(used["PostgreSQL"] / rate * 1000, 2), "unit": "ms"}
    prof = intake["in_process"]
    figures["sql_statements_per_intake"] = {"value": prof["sql_statements_per_intake"], "unit": "statements",
                                            "note": "in process, without SAVEPOINTs"}
    ctx.note(f"Intake: {closed['throughput_per_s']:g} orders/s with {closed['concurrency']} concurrent clients "
             f"(p50 {closed['latency_ms']['p50']} ms, p95 {closed['latency_ms']['p95']} ms, p99 "
             f"{closed['latency_ms']['p99']} ms; slowest second {closed['worst_second']}/s). With {settings.rate:g}/s "
             f"offered the server answered {opened['throughput_per_s']:g}/s, p99 {opened['latency_ms']['p99']} ms"
             + (" and the generator gave up (requests more than 5 s late)." if opened["gave_up"] else "."))
    if intake.get("tuning"):
        ctx.note(f"Server configurations tried, {WEB_SERVER} workers x threads (short closed-loop runs, in this order; "
                 "each later one meets more recent orders in the database): "
                 + "; ".join(f"{t['workers']}x{t['threads']}: {t['throughput_per_s']:g}/s, p99 {t['latency_ms']['p99']} ms"
                             for t in intake["tuning"])
                 + f". Measured in full: {settings.web_workers}x{settings.web_threads}.")
    cpu = closed["cpu"]
    ctx.note(f"CPU during the closed-loop window, in cores of {cpu['machine_cores']:g}: "
             + ", ".join(f"{k} {v:g}" for k, v in cpu["cores_used"].items())
             + f". Server: {WEB_SERVER}, {settings.web_workers} workers x {settings.web_threads} threads; load generator: "
               "Python threads with keep-alive HTTP/1.1 connections on plain sockets (bench/loadgen.py) in the benchmark process, on the same cores.")


def _deferred_figures(ctx, intake, deferred, figures):
    if not deferred["orders"]:
        ctx.note(f"Deferred work: nothing measured ({deferred}).")
        return
    figures["deferred_cpu_per_order"] = {"value": deferred["cpu_ms_per_order"], "unit": "ms",
                                         "note": "intelligence sweep after intake: worker + PostgreSQL"}
    closed = intake["closed"]
    used, rate = closed["cpu"]["cores_used"], closed["throughput_per_s"] or 0
    line = (f"Deferred work: each intake queues its order for the intelligence sweep (suggestion, repeat search); "
            f"one sweep batch of {deferred['orders']} of the {deferred['backlog_before']:,} queued took "
            f"{deferred['seconds']} s ({deferred['orders_per_s_one_worker']:g} orders/s on one process), "
            f"{deferred['sweep_cpu_ms_per_order']} ms of worker CPU and {deferred['postgres_cpu_ms_per_order']} ms "
            f"of PostgreSQL CPU per order; {deferred['repeat_candidates']} repeat candidates found.")
    one = deferred.get("one_at_a_time")
    if one:
        figures["deferred_cpu_per_order_one_at_a_time"] = {
            "value": one["cpu_ms_per_order"], "unit": "ms", "note": "the same work one order at a time (the former task per order)"}
        line += (f" The same work one order at a time, as the former task per order did: {one['cpu_ms_per_order']} ms "
                 f"per order ({one['orders']} orders).")
    if rate:
        intake_ms = (used.get("web server", 0) + used.get("PostgreSQL", 0)) / rate * 1000
        line += (f" With the intake's {intake_ms:.1f} ms an order costs {intake_ms + deferred['cpu_ms_per_order']:.1f} ms "
                 "of CPU in all; the worker works the queue off between the peaks.")
    ctx.note(line)


def _floor_figures(ctx, floor, figures):
    rate = floor["throughput_per_s"] or 0
    figures["floor_intake_throughput"] = {
        "value": rate, "unit": "orders/s", "target": None,
        "note": f"bare intake (bench/floor_urls.py), closed loop, {floor['concurrency']} clients, "
                f"{floor['workers']}x{floor['threads']} workers"}
    used = floor["cpu"]["cores_used"]
    if rate:
        for key, group in (("floor_server_cpu_per_order", "web server"), ("floor_postgres_cpu_per_order", "PostgreSQL")):
            if group in used:
                figures[key] = {"value": round(used[group] / rate * 1000, 2), "unit": "ms"}
    ctx.note(f"Floor: the bare intake of bench/floor_urls.py (same {WEB_SERVER} workers, middleware, django-ninja, "
             f"token check and request schema; the same four rows in one transaction by raw SQL, with no "
             f"validation, clock or hooks) answered {rate:g} orders/s, p99 {floor['latency_ms']['p99']} ms; "
             f"CPU in cores of 2: " + ", ".join(f"{k} {v}" for k, v in used.items())
             + ". No intake on this stack and machine can be cheaper.")


def _raw_figures(ctx, raw, figures):
    figures["raw_insert_rate"] = {"value": round(raw["rows_per_s"]), "unit": "rows/s",
                                  "note": f"autocommit, {raw['concurrency']} connections"}
    figures["raw_insert_p99"] = {"value": raw["p99_ms"], "unit": "ms"}
    ctx.note(f"Raw single-row INSERTs into a table shaped like workorders_workorder (same indexes), one transaction "
             f"each, {raw['concurrency']} connections: {raw['rows_per_s']:.0f} rows/s, p50 {raw['p50_ms']} ms, "
             f"p99 {raw['p99_ms']} ms.")


def _order_figures(ctx, settings, load, nb, sweep, figures):
    figures["open_orders_loaded"] = {"value": load["open_orders"], "unit": "orders"}
    for label in ("station", "county"):
        r = nb[label]
        figures[f"near_breach_{label}_ms"] = {"value": r["median_ms"], "unit": "ms", "target": "< 50",
                                              "note": f"{r['unit']}: median of {settings.query_runs}, first 50 + count"}
        ctx.note(f"near_breach({r['unit']}): {r['near_breach_count']:,} of {r['open_orders_in_subtree']:,} open orders; "
                 f"median {r['median_ms']} ms (first 50: {r['page_median_ms']} ms, count: {r['count_median_ms']} ms); "
                 "indexes used: " + "; ".join(", ".join(p["indexes"]) or "NONE (sequential scan)" for p in r["plans"])
                 + " (plans in the JSON).")
    figures["sla_sweep_s"] = {"value": sweep["seconds"], "unit": "s", "target": "< 5",
                              "note": f"{sweep['swept']:,} due orders, {len(sweep['calls'])} calls"}
    ctx.note(f"SLA sweep: {sweep['swept']:,} due orders among {load['open_orders']:,} open ones in {sweep['seconds']} s "
             f"over {len(sweep['calls'])} calls of sweep_sla() (default batch); {sweep['sla_events_written']:,} SLA "
             f"events and {sweep['notifications_written']:,} notifications written.")


def run(ctx):
    settings = Settings(ctx.quick)
    ctx.detail("settings", settings.as_dict())
    figures = {}
    workdir = Path(tempfile.mkdtemp(prefix="gridcare-bench-workorders-"))
    ctx.log(f"logs in {workdir} (removed if the benchmark finishes)")
    with pg.scratch_database(ctx.log) as (url, source):
        facts = pg.server_facts(url)
        ctx.machine["postgresql"] = facts["version"]
        ctx.detail("postgresql", {"source": source, **{k: v for k, v in facts.items() if k != "postmaster_pid"}})
        env = dict(os.environ, DATABASE_URL=url, GRIDCARE_DEBUG="0", GRIDCARE_LOG_LEVEL="WARNING",
                   GRIDCARE_VAR_DIR=str(workdir / "var"))
        t0 = time.monotonic()
        _gridcare(["migrate", "--noinput", "-v", "0"], env, workdir / "setup.log")
        # org, staff, grid and customers only: the demo's work orders (and later capabilities' data) would
        # bring open orders whose clocks run out during the run and blur the sweep's count
        _gridcare(["demo-data", "--customers", str(settings.customers), "--only", "org,grid,customers"], env,
                  workdir / "setup.log")
        ctx.log(f"migrated and demo data ({settings.customers:,} customers) in {time.monotonic() - t0:.0f} s")
        os.environ["GRIDCARE_VAR_DIR"] = env["GRIDCARE_VAR_DIR"]
        _setup_django(url)
        try:
            if "intake" in settings.phases:
                intake = intake_phase(ctx, settings, env, url, workdir, facts)
                ctx.detail("intake", intake)
                _intake_figures(ctx, settings, intake, figures)
                deferred = deferred_phase(ctx, settings, facts)
                ctx.detail("deferred", deferred)
                _deferred_figures(ctx, intake, deferred, figures)
            if "floor" in settings.phases:
                ctx.log("floor: the bare intake (bench/floor_urls.py) on the same server configuration")
                floor = floor_phase(ctx, settings, env, url, workdir, facts)
                ctx.detail("floor", floor)
                ctx.log(f"  {floor['throughput_per_s']} orders/s, latency {floor['latency_ms']}, "
                        f"CPU {floor['cpu']['cores_used']}")
                _floor_figures(ctx, floor, figures)
            if "raw" in settings.phases:
                ctx.log("raw single-row INSERTs")
                raw = raw_insert_phase(ctx, settings, url)
                ctx.detail("raw_insert", raw)
                ctx.log(f"  {raw['rows_per_s']:.0f} rows/s, p99 {raw['p99_ms']} ms")
                _raw_figures(ctx, raw, figures)
            if "orders" in settings.phases:
                from django.utils import timezone as dj_timezone

                ref = dj_timezone.now().replace(microsecond=0)
                ctx.log(f"loading {settings.open_orders:,} open orders (reference time {ref.isoformat()})")
                load = load_open_orders(ctx, url, settings.open_orders, ref)
                ctx.detail("open_orders", {**load, "reference_time": ref.isoformat()})
                ctx.log(f"  {load}")
                nb = near_breach_phase(ctx, settings, ref)
                ctx.detail("near_breach", nb)
                sweep = sweep_phase(ctx, settings, url, ref)
                ctx.detail("sweep", sweep)
                _order_figures(ctx, settings, load, nb, sweep, figures)
        finally:
            from django.db import connections

            connections.close_all()
    shutil.rmtree(workdir, ignore_errors=True)  # server and setup logs are kept only when something broke
    return figures
