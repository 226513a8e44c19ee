"""`gridcare tariffs load FILE|DIR` and `gridcare tariffs export CODE [--out FILE]`: the formats.md tariff
format in and out, round trip, overlapping validity refused, errors in Chinese with exit status 2."""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from gridcare.billing import catalog
from gridcare.billing.models import Tariff
from gridcare.billing.rules import parse_tariff

SHIPPED = Path(catalog.__file__).resolve().parent / "tariffs"
NEW = """code: T-NEW
name: 测试电价
customer_class: residential
valid_from: 2026-01-01
valid_to: 2026-06-30
energy: {flat: "0.5"}
---
code: T-NEW
name: 测试电价（调价后）
customer_class: residential
valid_from: 2026-07-01
energy: {flat: "0.52"}
tiers: {basis: monthly, bounds_kwh: [200], increments: ["0", "0.1"]}
"""


def out(*args):
    buf = io.StringIO()
    call_command("tariffs", *args, stdout=buf)
    return buf.getvalue()


@pytest.mark.django_db
def test_load_dir_export_and_round_trip(tmp_path):
    assert "已导入" in out("load", str(SHIPPED))
    assert Tariff.objects.filter(code="ZJ-RES-TIERED").exists()
    assert Tariff.objects.get(code="ZJ-RES-TIERED").audit_entries().filter(source="cli").exists()
    (tmp_path / "new.yaml").write_text(NEW, encoding="utf-8")
    assert "2 个电价版本" in out("load", str(tmp_path / "new.yaml"))
    text = out("export", "T-NEW")
    docs = list(yaml.safe_load_all(text))
    assert [d["valid_from"] for d in docs] == ["2026-01-01", "2026-07-01"]
    assert [parse_tariff(d) for d in docs] == [parse_tariff(d) for d in yaml.safe_load_all(NEW)]
    out("export", "T-NEW", "--out", str(tmp_path / "t.json"))
    data = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert [d["energy"]["flat"] for d in data] == ["0.5", "0.52"]
    # the export loads back (replacing the same versions) unchanged
    out("load", str(tmp_path / "t.json"), "--replace")
    assert [t.as_rule() for t in Tariff.objects.filter(code="T-NEW").order_by("valid_from")] == \
           [parse_tariff(d) for d in yaml.safe_load_all(NEW)]


@pytest.mark.django_db
def test_overlap_and_bad_files_refused_nothing_written(tmp_path):
    out("load", str(SHIPPED / "ex-res-tiered.yaml"))
    (tmp_path / "overlap.yaml").write_text(
        "code: EX-RES-TIERED\nname: x\ncustomer_class: residential\nvalid_from: 2026-03-01\nenergy: {flat: '0.5'}\n",
        encoding="utf-8")
    with pytest.raises(CommandError, match="重叠"):
        out("load", str(tmp_path / "overlap.yaml"))
    assert Tariff.objects.filter(code="EX-RES-TIERED").count() == 1
    (tmp_path / "bad.yaml").write_text("code: B\nname: b\ncustomer_class: martian\nvalid_from: 2026-13-01\n",
                                       encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        out("load", str(tmp_path / "bad.yaml"))
    assert "customer_class" in str(exc.value) and "valid_from" in str(exc.value) and "energy" in str(exc.value)
    with pytest.raises(CommandError, match="未找到电价代码"):
        out("export", "NO-SUCH")


def test_cli_contract_exit_status_and_stderr(tmp_path):
    env = {**os.environ, "GRIDCARE_VAR_DIR": str(tmp_path)}
    gridcare = Path(sys.executable).parent / "gridcare"
    ok = subprocess.run([str(gridcare), "tariffs", "export", "ZJ-RES-TOU"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and parse_tariff(yaml.safe_load(ok.stdout)).code == "ZJ-RES-TOU"
    bad = subprocess.run([str(gridcare), "tariffs", "load", str(tmp_path / "missing.yaml")], capture_output=True,
                         text=True, env=env)
    assert bad.returncode == 2 and "文件不存在" in bad.stderr and "Traceback" not in bad.stderr
