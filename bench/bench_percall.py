"""Per-call costs behind the intake's choices: client CPU of one fixed statement by each cursor path, one
answer's validation by a ninja Schema and by a plain pydantic model, the channel check, and one request of
the load generator's client against `http.client`.

No targets: these are the figures bench/README.md ("Fewer round trips, a lighter stack for API clients")
quotes for why `core.fixed_sql`, the intake schemas and `bench/loadgen.py` are as they are. Each is CPU
time of the measuring thread (`time.thread_time`), so a server in the same process (the HTTP comparison)
or PostgreSQL (a scratch database, as every benchmark here) does not count, only what the caller spends,
kernel time of its own system calls included. Each path is measured twice, in turns, and the lower
figure kept.
"""
from __future__ import annotations

import http.client
import http.server
import json
import threading
import time

from . import loadgen, pg
from .gridcare_env import setup_django

TIMEOUT = 10 * 60


def _per_call_us(fn, n: int) -> float:
    for _ in range(min(n // 10, 200)):
        fn()
    t0 = time.thread_time()
    for _ in range(n):
        fn()
    return (time.thread_time() - t0) / n * 1e6


def _compare(paths: dict, n: int) -> dict:
    best = {name: float("inf") for name in paths}
    for _ in range(2):
        for name, fn in paths.items():
            best[name] = min(best[name], _per_call_us(fn, n))
    return {name: round(v, 1) for name, v in best.items()}


def _cursor_paths(n: int) -> dict:
    from django.db import connection

    from gridcare.core import fixed_sql

    sql, params = "SELECT %s::int + 1", [1]

    def django_cursor():  # what fixed statements ran through before 3fd35c5: Django's wrapper
        with fixed_sql._prepared_cursor(connection) as cur:
            cur.execute(sql, params)
            cur.fetchone()

    def fixed_sql_cursor():  # fixed_sql.cursor() as it is, nothing watching the connection
        with fixed_sql.cursor() as cur:
            cur.execute(sql, params)
            cur.fetchone()

    def bare_psycopg():
        connection.connection.execute(sql, params, prepare=True).fetchone()

    connection.ensure_connection()
    assert fixed_sql._unobserved(connection), "the lean path needs an unobserved connection"
    return _compare({"django_cursor_wrapper": django_cursor, "fixed_sql_cursor": fixed_sql_cursor,
                     "psycopg_connection": bare_psycopg}, n)


def _schema_paths(n: int) -> dict:
    from ninja import Schema

    from gridcare.workorders.api import OrderOut
    from gridcare.workorders.choices import Channel
    from gridcare.workorders.services import _CHANNELS

    as_schema = type("OrderOutSchema", (Schema,), {"__annotations__": dict(OrderOut.__annotations__)})
    now = time.time()
    import datetime as dt

    at = dt.datetime.fromtimestamp(now, dt.timezone.utc)
    answer = {name: None for name in OrderOut.model_fields}
    answer.update({name: "x" for name, f in OrderOut.model_fields.items() if f.annotation in (str, str | None)})
    answer.update(accepted_at=at, stage_entered_at=at, sla_state=0, suspended=False, escalation=0, urge_count=0,
                  reject_count=0, quality_flags=[])
    out = _compare({"order_out_ninja_schema": lambda: as_schema.model_validate(answer).model_dump(),
                    "order_out_pydantic_model": lambda: OrderOut.model_validate(answer).model_dump()}, n)
    out.update(_compare({"channel_values": lambda: "wechat" in Channel.values,
                         "channel_set": lambda: "wechat" in _CHANNELS}, n))
    return out


def _client_paths(n: int) -> dict:
    answer = json.dumps({"order_no": "2612060000000001", "text": "咨询电价" * 20}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms wait for an ACK

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(201)
            for name in ("Content-Type", "Vary", "X-Frame-Options", "Content-Language", "Referrer-Policy"):
                self.send_header(name, "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    body = json.dumps({"order_type": "inquiry", "account_no": "0100000001", "text": "咨询电价" * 10},
                      ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + "a" * 43,
               "Idempotency-Key": "k" * 32}
    stdlib = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    ours = loadgen._Client("127.0.0.1", port, 10)

    def with_http_client():  # what bench/loadgen.py used before 457b656
        stdlib.request("POST", "/api/workorders/", body, headers)
        resp = stdlib.getresponse()
        resp.read()
        assert resp.status == 201

    def with_loadgen_client():
        assert ours.send("POST", "/api/workorders/", body, headers)[0] == 201

    try:
        return _compare({"http_client_request": with_http_client, "loadgen_client_request": with_loadgen_client}, n)
    finally:
        stdlib.close()
        ours.close()
        server.shutdown()
        server.server_close()


def run(ctx) -> dict:
    n = 300 if ctx.quick else 3000
    figures = {}
    with pg.scratch_database(ctx.log) as (url, source):
        ctx.machine["postgresql"] = pg.server_facts(url)["version"]
        setup_django(url)
        from django.db import connections

        try:
            cursors = _cursor_paths(n)
        finally:
            connections.close_all()
    ctx.log(f"one fixed statement, client CPU µs: {cursors}")
    schemas = _schema_paths(n * 4)
    ctx.log(f"validation and channel check, µs: {schemas}")
    clients = _client_paths(n)
    ctx.log(f"one HTTP request, client CPU µs: {clients}")
    ctx.detail("per_call_us", {**cursors, **schemas, **clients})
    for name, value in {**cursors, **schemas, **clients}.items():
        figures[name] = {"value": value, "unit": "µs"}
    return figures
