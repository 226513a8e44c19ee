import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from gridcare.core.taxonomy import DATA_DIR

SHARED = Path(__file__).resolve().parents[4].parent / "shared" / "domain"


def test_models_and_migrations_agree(db):
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:  # --check exits 1 when a migration is missing
        pytest.fail(f"models and migrations disagree:\n{out.getvalue()}") if exc.code else None


@pytest.mark.parametrize("name", ["taxonomy.yaml", "time-limits.yaml"])
def test_domain_copies_in_sync_with_shared(name):
    shared = SHARED / name
    if not shared.exists():
        pytest.skip("shared/domain is not beside this checkout")
    assert yaml.safe_load((DATA_DIR / name).read_text("utf-8")) == yaml.safe_load(shared.read_text("utf-8"))


def test_healthz_reports_database(client, db):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json()["status"] == "ok"


def test_openapi_docs_load(client, db):
    assert client.get("/api/docs").status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert "/api/customers/" in schema["paths"]


def _deploy_check(**env):
    import os
    import subprocess
    import sys
    from pathlib import Path

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDCARE_HTTPS", "GRIDCARE_SECRET", "GRIDCARE_HSTS"))}
    gridcare = Path(sys.executable).parent / "gridcare"
    out = subprocess.run([str(gridcare), "check", "--deploy"], env={**clean, **env}, capture_output=True, text=True,
                         timeout=120)
    return out.stdout + out.stderr


def test_deploy_check_flags_the_demo_key_and_https_settings_clear_the_cookie_warnings(tmp_path):
    demo = _deploy_check(GRIDCARE_VAR_DIR=str(tmp_path))
    assert "gridcare.W001" in demo and "GRIDCARE_SECRET_KEY" in demo and "security.W012" in demo
    production = _deploy_check(GRIDCARE_VAR_DIR=str(tmp_path), GRIDCARE_HTTPS="1",
                               GRIDCARE_SECRET_KEY="k" * 10 + "Zx8#pQ2$wL9!mN4&vB7*cR1^tY6(uI3)oP5-aS0=dF" + "j" * 10,
                               GRIDCARE_HSTS_SECONDS="31536000")
    for warning in ("gridcare.W001", "security.W004", "security.W008", "security.W012", "security.W016",
                    "security.W021"):
        assert warning not in production, production
