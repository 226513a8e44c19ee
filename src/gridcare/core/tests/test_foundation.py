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
