"""`make test`: the whole suite on SQLite, then on PostgreSQL (the DATABASE_URL one when it names
PostgreSQL, else a throwaway embedded server). Exits non-zero when either run fails."""
import os
import subprocess
import sys

from .pgserver import embedded_postgres


def run_pytest(label: str, env: dict, extra: list[str]) -> int:
    print(f"\n===== GridCare test suite on {label} =====", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *extra], env=env)


def main(argv=None):
    extra = list(sys.argv[1:] if argv is None else argv)
    base_env = dict(os.environ)
    url = base_env.pop("DATABASE_URL", "")
    sqlite_env = dict(base_env, GRIDCARE_TEST_DB="sqlite")
    rc_sqlite = run_pytest("SQLite", sqlite_env, extra)
    if url.startswith(("postgres://", "postgresql://")):
        rc_pg = run_pytest("PostgreSQL (DATABASE_URL)", dict(base_env, DATABASE_URL=url, GRIDCARE_TEST_DB="postgresql"), extra)
    else:
        with embedded_postgres() as pg_url:
            rc_pg = run_pytest("PostgreSQL (embedded-postgres)",
                               dict(base_env, DATABASE_URL=pg_url, GRIDCARE_TEST_DB="postgresql"), extra)
    print(f"\nSQLite run: {'passed' if rc_sqlite == 0 else 'FAILED'}; "
          f"PostgreSQL run: {'passed' if rc_pg == 0 else 'FAILED'}", flush=True)
    sys.exit(0 if rc_sqlite == 0 and rc_pg == 0 else 1)


if __name__ == "__main__":
    main()
