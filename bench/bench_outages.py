"""Outages: affected customers of a 20,000-customer feeder, 100,000 notices queued, delivered by two workers to a local HTTP gateway with one worker killed mid-run.

Targets (issue 5): affected customers of a feeder outage with 20,000 customers < 100 ms; notices for
100,000 affected customers queued in < 10 s; delivered by two workers to a local HTTP gateway at
>= 1,000/s with zero duplicates and zero losses after one worker is killed mid-run.

Phases, on a scratch PostgreSQL database:
1. migrate; an org unit, a substation, feeder B20K (100 台区 x 200 customers) and feeder B100K (500 台区 x
   200 customers), customers loaded with INSERT ... SELECT generate_series (1 % critical, mobiles);
2. a fault outage on B20K (services.do_create_outage, no messages), then `affected_ids(outage)` (every
   customer id, critical first) timed: median of 9 runs;
3. a planned outage on B100K through services.do_create_outage: outage, 台区 rows, audit, timeline and
   100,000 delivery rows in one transaction, timed;
4. a tiny idempotent gateway on 127.0.0.1 (gridcare.outages.gateway, a thread of this process) and two
   `gridcare notify deliver --loop` processes (lease 10 s, 500 rows a claim, 100 messages a POST); worker 1
   is killed with SIGKILL once the gateway has applied 30 % of the messages; worker 2 finishes, taking
   over worker 1's claimed rows after their lease expires. Figures: messages/s over the whole delivery
   (kill and lease wait included), duplicates applied (a customer getting a message twice), losses (a
   reachable customer without the message, or a row not marked sent), copies re-posted after the crash
   (deduplicated by the gateway through the idempotency key).
"""
from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from . import pg
from .gridcare_env import run_gridcare as _gridcare, setup_django as _setup_django

TIMEOUT = 15 * 60
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent






def load_grid(ctx, small: int, big: int, per_tq: int = 200) -> dict:
    """Feeders B20K and B100K with their 台区 and customers (bulk SQL)."""
    from django.db import connection

    from gridcare.accounts.models import OrgUnit
    from gridcare.customers.models import Customer
    from gridcare.grid.models import Feeder, Substation, TransformerArea

    prov = OrgUnit.objects.create(code="BP", name="基准省公司", kind="province")
    county = OrgUnit.objects.create(code="BX", name="基准县公司", kind="county", parent=prov)
    sub = Substation.objects.create(code="BS1", name="基准变电站", unit=county)
    out = {}
    for code, n_customers in (("B20K", small), ("B100K", big)):
        f = Feeder.objects.create(code=code, name=f"10kV基准{code}线", substation=sub, unit=county)
        n_tq = max(1, n_customers // per_tq)
        TransformerArea.objects.bulk_create([TransformerArea(code=f"{code}T{i:04d}", name=f"{code}第{i}台区", feeder=f,
                                                             unit=county, area_kind="urban") for i in range(n_tq)])
        out[code] = f
    t = Customer._meta.db_table
    tq = TransformerArea._meta.db_table
    with connection.cursor() as cur:
        offset = 0
        for code, n_customers in (("B20K", small), ("B100K", big)):
            cur.execute(f"""
                INSERT INTO {t} (account_no, name, customer_class, unit_id, transformer_area_id, address, area_kind,
                                 phone, phone2, critical, critical_kind, sensitive, sensitive_reason, sensitive_until,
                                 opened_on, notify_sms, notify_wechat, email)
                SELECT (5000000000 + %s + g)::text, '客户' || g, 'residential', %s,
                       (SELECT id FROM {tq} WHERE code = %s || 'T' || lpad(((g - 1) %% %s)::text, 4, '0')),
                       '基准路' || g || '号', 'urban', '139' || lpad((%s + g)::text, 8, '0'), '',
                       (g %% 100 = 0), CASE WHEN g %% 100 = 0 THEN 'hospital' ELSE '' END, false, '', NULL, NULL,
                       true, false, ''
                FROM generate_series(1, %s) g""",
                        [offset, county.pk, code, max(1, n_customers // per_tq), offset, n_customers])
            offset += n_customers
        cur.execute(f"ANALYZE {t}")
    ctx.log(f"loaded {small:,} + {big:,} customers")
    return out


def affected_phase(ctx, admin, runs=9) -> dict:
    from django.utils import timezone

    from gridcare.outages import services

    now = timezone.now()
    o = services.do_create_outage(admin, {"kind": "fault", "scope_kind": "feeder", "feeder_code": "B20K",
                                          "start_at": now - timedelta(minutes=10), "reason": "基准测试"},
                                  notify_customers=False)
    times, n = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        ids = services.affected_ids(o)
        times.append((time.perf_counter() - t0) * 1000)
        n = len(ids)
    return {"customers": n, "median_ms": round(statistics.median(times), 1), "runs_ms": [round(x, 1) for x in times],
            "critical_first": n > 0}


def queue_phase(ctx, admin) -> dict:
    from django.utils import timezone

    from gridcare.notifications.models import Delivery
    from gridcare.outages import services

    start = timezone.now() + timedelta(days=8)
    t0 = time.perf_counter()
    o = services.do_create_outage(admin, {"kind": "planned", "scope_kind": "feeder", "feeder_code": "B100K",
                                          "start_at": start, "end_at": start + timedelta(hours=6),
                                          "reason": "线路改造"})
    seconds = time.perf_counter() - t0
    queued = Delivery.objects.count()
    return {"outage_no": o.outage_no, "queued": queued, "seconds": round(seconds, 2),
            "customers_affected": o.customers_affected}


def delivery_phase(ctx, env, workdir, expected: int, kill_at: float = 0.3, lease: int = 10) -> dict:
    from gridcare.notifications.models import Delivery
    from gridcare.outages.gateway import Gateway

    with Gateway() as gw:
        wenv = dict(env, GRIDCARE_NOTIFY_GATEWAY_URL=gw.url, GRIDCARE_NOTIFY_GATEWAY_BATCH="100")
        procs = []
        t0 = time.monotonic()
        for name in ("w1", "w2"):
            log = open(workdir / f"worker-{name}.log", "ab")
            procs.append(subprocess.Popen([str(BIN / "gridcare"), "notify", "deliver", "--loop", "--worker", name,
                                           "--batch", "500", "--lease-seconds", str(lease), "--max-seconds", "600"],
                                          env=wenv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT))
        killed_at_applied, killed = None, False
        deadline = t0 + 540
        while time.monotonic() < deadline:
            applied = len(gw.state.applied)
            if not killed and applied >= expected * kill_at:
                procs[0].send_signal(signal.SIGKILL)
                procs[0].wait()
                killed, killed_at_applied = True, applied
                ctx.log(f"worker 1 killed (SIGKILL) after {applied:,} messages applied")
            if killed and not Delivery.objects.exclude(status__in=["sent", "unreachable", "failed"]).exists():
                break
            time.sleep(0.05)
        seconds = time.monotonic() - t0
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=30)
        state = gw.state
        expected_keys = {f"{k}/{c}" for k, c in Delivery.objects.filter(status__in=["sent", "sending", "pending", "failed"])
                         .values_list("event__key", "customer_id")}
        applied_keys = set(state.applied)
        customers = [k.rsplit("/", 1)[1] for k in applied_keys]
        from django.db.models import Count

        counts = dict(Delivery.objects.values_list("status").annotate(n=Count("id")))
        return {"seconds": round(seconds, 2), "rate_per_s": round(len(applied_keys) / seconds, 1),
                "applied": len(applied_keys), "expected": len(expected_keys),
                "lost": len(expected_keys - applied_keys) + (len(expected_keys) - counts.get("sent", 0)),
                "duplicates_applied": len(customers) - len(set(customers)) + len(applied_keys - expected_keys),
                "reposted_after_crash": state.duplicates_received, "posts": state.posts,
                "killed_at_applied": killed_at_applied, "lease_seconds": lease, "status_counts": counts}


def run(ctx):
    small = int(os.environ.get("BENCH_OUTAGE_FEEDER", 20_000))
    big = int(os.environ.get("BENCH_OUTAGE_NOTICES", 10_000 if ctx.quick else 100_000))
    ctx.detail("settings", {"feeder_customers": small, "notice_customers": big})
    workdir = Path(tempfile.mkdtemp(prefix="gridcare-bench-outages-"))
    ctx.log(f"logs in {workdir}")
    figures = {}
    with pg.scratch_database(ctx.log) as (url, source):
        facts = pg.server_facts(url)
        ctx.machine["postgresql"] = facts["version"]
        env = dict(os.environ, DATABASE_URL=url, GRIDCARE_DEBUG="0", GRIDCARE_LOG_LEVEL="WARNING",
                   GRIDCARE_VAR_DIR=str(workdir / "var"))
        t0 = time.monotonic()
        _gridcare(["migrate", "--noinput", "-v", "0"], env, workdir / "setup.log")
        ctx.log(f"migrated in {time.monotonic() - t0:.0f} s")
        os.environ["GRIDCARE_VAR_DIR"] = env["GRIDCARE_VAR_DIR"]
        _setup_django(url)
        from gridcare.accounts.models import OrgUnit, User

        load_grid(ctx, small, big)
        admin = User.objects.create(username="bench_admin", role="admin", is_superuser=True, is_staff=True,
                                    unit=OrgUnit.objects.get(code="BP"))
        aff = affected_phase(ctx, admin)
        ctx.detail("affected", aff)
        figures["affected_customers_ms"] = {"value": aff["median_ms"], "unit": "ms", "target": "< 100",
                                            "note": f"feeder with {aff['customers']:,} customers, median of 9"}
        q = queue_phase(ctx, admin)
        ctx.detail("queue", q)
        ctx.log(f"queued {q['queued']:,} notices in {q['seconds']} s")
        figures["notices_queued_s"] = {"value": q["seconds"], "unit": "s", "target": "< 10",
                                       "note": f"{q['queued']:,} delivery rows + outage, in one transaction"}
        d = delivery_phase(ctx, env, workdir, q["queued"])
        ctx.detail("delivery", d)
        ctx.log(f"delivery: {d}")
        figures["delivery_rate"] = {"value": d["rate_per_s"], "unit": "msg/s", "target": ">= 1000",
                                    "note": f"two workers, one killed at {d['killed_at_applied']:,}; lease {d['lease_seconds']} s included"}
        figures["duplicates"] = {"value": d["duplicates_applied"], "unit": "messages", "target": "<= 0"}
        figures["losses"] = {"value": d["lost"], "unit": "messages", "target": "<= 0"}
        figures["reposted_after_crash"] = {"value": d["reposted_after_crash"], "unit": "messages",
                                           "note": "copies posted again after the kill, deduplicated by idempotency key"}
        ctx.note(f"Affected customers of a {aff['customers']:,}-customer feeder: {aff['median_ms']} ms (median). "
                 f"{q['queued']:,} notices queued in {q['seconds']} s. Delivered in {d['seconds']} s "
                 f"({d['rate_per_s']}/s) by two `gridcare notify deliver` processes, worker 1 SIGKILLed after "
                 f"{d['killed_at_applied']:,}; {d['reposted_after_crash']} copies re-posted and deduplicated by the "
                 f"gateway, {d['duplicates_applied']} duplicates applied, {d['lost']} lost.")
    return figures
