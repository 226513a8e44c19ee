"""Business hall: issuing a ticket and calling the next number through the HTTP API at 50 operations/s, and
how soon the hall screen shows a call.

Targets (issue 9): issuing a ticket and calling the next number each under 50 ms (p99) at 50 operations/s
on the 2-core machine; the display page reflects a call within 1 s.

Phases, against one scratch PostgreSQL database:
1. migrate; `gridcare demo-data --only org` (halls and clerks); one hall set up round the clock with 12
   windows; an API token for a clerk of the hall;
2. the real server (`gridcare serve --no-worker`, Granian on 127.0.0.1); tickets issued open-loop at 50/s
   (each a POST /api/hall/halls/<code>/tickets), latency per request;
3. call-next open-loop at 50/s over the windows (each call followed, off the clock, by a finish from the
   same window so that the window is free for its next call);
4. display: after each of 20 calls, the board fragment the screen polls (every 500 ms) is fetched until
   it shows the number; the figure is the screen's poll interval plus the p99 time to fetch a board that
   shows it — the worst case for a screen that polled just before the call.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from . import loadgen, pg
from .gridcare_env import free_port as _free_port

TIMEOUT = 15 * 60
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RATE = float(os.environ.get("BENCH_HALL_RATE", 50))
POLL_MS = 500  # hall/display.html polls the board every 500 ms


def _gridcare(args, env, log):
    with open(log, "ab") as fh:
        subprocess.run([str(BIN / "gridcare"), *args], env=env, stdout=fh, stderr=subprocess.STDOUT, check=True,
                       cwd=ROOT, timeout=900)




@contextmanager
def _server(env, log):
    port = _free_port()
    cmd = [str(BIN / "gridcare"), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    fh = open(log, "ab")
    proc = subprocess.Popen(cmd, env=dict(env, GRIDCARE_WEB_THREADS="4"), stdout=fh, stderr=subprocess.STDOUT,
                            cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start; see {log}") from None
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        fh.close()


def _paced(port, n, rate, make_request):
    """Open loop: request i is sent at i/rate s (threads so that a slow answer does not delay the next)."""
    loadgen.freeze_heap()
    lat, errors, lock = [], [], threading.Lock()
    start = time.monotonic() + 0.2

    def one(i):
        method, path, body, headers = make_request(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            ms = time.perf_counter() - t0  # seconds (loadgen.percentiles reports ms)
            with lock:
                lat.append(ms)
                if resp.status >= 300:
                    errors.append((resp.status, payload[:200]))
        finally:
            conn.close()

    threads = []
    for i in range(n):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        th = threading.Thread(target=one, args=(i,))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    achieved = n / (time.monotonic() - start)
    return lat, errors, achieved


def run(ctx):
    quick = ctx.quick
    n = 150 if quick else 600
    workdir = Path(tempfile.mkdtemp(prefix="gridcare-bench-hall-"))
    figures = {}
    with pg.scratch_database(ctx.log) as (url, _source):
        env = dict(os.environ, DATABASE_URL=url, GRIDCARE_DEBUG="0", GRIDCARE_VAR_DIR=str(workdir / "var"))
        _gridcare(["migrate", "--noinput", "-v", "0"], env, workdir / "setup.log")
        _gridcare(["demo-data", "--customers", "200", "--only", "org"], env, workdir / "setup.log")
        os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="gridcare.settings", GRIDCARE_DEBUG="0",
                          GRIDCARE_VAR_DIR=env["GRIDCARE_VAR_DIR"])
        import django

        django.setup()
        from gridcare.accounts.models import ApiToken, OrgUnit, User
        from gridcare.hall import services

        admin = User.objects.get(username="admin")
        unit = OrgUnit.objects.filter(kind="hall").order_by("code").first()
        windows = [{"number": w, "service_types": ["payment", "invoice", "application", "inquiry", "complaint"]}
                   for w in range(1, 13)]
        services.do_setup_hall(admin, unit.code, windows,
                               opening_hours={str(d): [["00:00", "24:00"]] for d in range(7)})
        clerk = User.objects.filter(unit=unit, role="clerk").first()
        token = ApiToken.issue(clerk, "bench")[1]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        code = unit.code
        with _server(env, workdir / "server.log") as port:
            ctx.log(f"server on {port}; warming up")
            _paced(port, 20, 20, lambda i: ("POST", f"/api/hall/halls/{code}/tickets",
                                            json.dumps({"service_type": "payment"}), headers))
            ctx.log(f"issuing {n} tickets at {RATE}/s")
            types = ["payment", "payment", "payment", "invoice", "application", "inquiry"]
            lat, err, rate = _paced(port, n, RATE, lambda i: ("POST", f"/api/hall/halls/{code}/tickets",
                                                              json.dumps({"service_type": types[i % len(types)]}),
                                                              headers))
            p = loadgen.percentiles(lat)
            ctx.detail("issue", {"n": n, "rate": rate, "errors": len(err), "percentiles_ms": p})
            figures["issue_p99_ms"] = {"value": round(p['p99'], 1), "unit": "ms", "target": "< 50",
                                       "note": f"p50 {p['p50']:.1f} ms at {rate:.0f}/s, {len(err)} errors"}
            figures["issue_errors"] = {"value": len(err), "unit": "requests", "target": "< 1"}

            # call-next: each window calls, then (off the clock) finishes, so that it can call again
            ctx.log(f"calling {n} numbers at {RATE}/s over 12 windows")
            loadgen.freeze_heap()
            free = {w: threading.Lock() for w in range(1, 13)}
            call_lat, call_err, lock = [], [], threading.Lock()
            start = time.monotonic() + 0.2

            def call(i):
                w = i % 12 + 1
                with free[w]:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    t0 = time.perf_counter()
                    conn.request("POST", f"/api/hall/halls/{code}/windows/{w}/call", body="{}", headers=headers)
                    resp = conn.getresponse()
                    body = resp.read()
                    ms = time.perf_counter() - t0  # seconds (loadgen.percentiles reports ms)
                    conn.request("POST", f"/api/hall/halls/{code}/windows/{w}/finish", body="{}", headers=headers)
                    conn.getresponse().read()
                    conn.close()
                with lock:
                    call_lat.append(ms)
                    if resp.status >= 300:
                        call_err.append((resp.status, body[:200]))

            threads = []
            for i in range(n):
                delay = start + i / RATE - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                th = threading.Thread(target=call, args=(i,))
                th.start()
                threads.append(th)
            for th in threads:
                th.join()
            rate = n / (time.monotonic() - start)
            p = loadgen.percentiles(call_lat)
            ctx.detail("call", {"n": n, "rate": rate, "errors": len(call_err), "percentiles_ms": p,
                                "first_errors": [str(e) for e in call_err[:3]]})
            figures["call_next_p99_ms"] = {"value": round(p['p99'], 1), "unit": "ms", "target": "< 50",
                                           "note": f"p50 {p['p50']:.1f} ms at {rate:.0f}/s (each call then a finish), "
                                                   f"{len(call_err)} errors"}

            # display: time until the board shows a call
            for _ in range(25):
                _paced(port, 1, 1, lambda i: ("POST", f"/api/hall/halls/{code}/tickets",
                                              json.dumps({"service_type": "payment"}), headers))
            seen = []
            for k in range(20):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("POST", f"/api/hall/halls/{code}/windows/1/call", body="{}", headers=headers)
                number = json.loads(conn.getresponse().read())["number"]
                t0 = time.perf_counter()
                while True:
                    conn.request("GET", f"/hall/{code}/display/board/")
                    html = conn.getresponse().read().decode()
                    if f">{number}<" in html:
                        break
                seen.append(time.perf_counter() - t0)
                conn.request("POST", f"/api/hall/halls/{code}/windows/1/finish", body="{}", headers=headers)
                conn.getresponse().read()
                conn.close()
            p = loadgen.percentiles(seen)
            ctx.detail("display", {"board_fetch_percentiles_ms": p, "poll_ms": POLL_MS})
            figures["display_reflects_call_ms"] = {"value": round(POLL_MS + p['p99'], 1), "unit": "ms", "target": "< 1000",
                                                   "note": f"screen polls every {POLL_MS} ms + board fetch p99 {p['p99']:.1f} ms"}
    return figures
