"""Where tariffs come from: the shipped files (billing/tariffs/*.yaml, one dated tariff per YAML
document, formats.md) and the Tariff table (loaded from those files or imported, editable by an
administrator). Also the late-payment rules of time-limits.yaml."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import yaml

from gridcare.core.taxonomy import DATA_DIR

from .rules import LateRules, Tariff, TariffError, overlaps, parse_tariff

SHIPPED_DIR = Path(__file__).resolve().parent / "tariffs"


class _TextDates(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text and parse_tariff reports a bad one by field."""


_TextDates.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def read_documents(path) -> list[dict]:
    """The tariff schedules of a YAML (one per document) or JSON (an object or a list) file."""
    path = Path(path)
    if not path.exists():
        raise TariffError({"file": f"文件不存在：{path}"})
    text = path.read_text(encoding="utf-8-sig")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
            docs = data if isinstance(data, list) else [data]
        else:
            docs = [d for d in yaml.load_all(text, Loader=_TextDates) if d is not None]
    except (json.JSONDecodeError, yaml.YAMLError, ValueError) as exc:  # ValueError: a date like 2026-13-01
        raise TariffError({"file": f"{path.name} 格式错误：{exc}"}) from None
    return docs


def load_file(path) -> list[Tariff]:
    out = []
    for i, doc in enumerate(read_documents(path)):
        try:
            out.append(parse_tariff(doc))
        except TariffError as exc:
            raise TariffError({f"{Path(path).name}#{i + 1}.{k}": v for k, v in exc.errors.items()}) from None
    return out


@lru_cache(maxsize=1)
def shipped() -> tuple[Tariff, ...]:
    tariffs = []
    for path in sorted(SHIPPED_DIR.glob("*.y*ml")):
        tariffs.extend(load_file(path))
    if problems := overlaps(tariffs):
        raise TariffError({"tariffs": problems[0]})
    return tuple(tariffs)


def resolve(code: str) -> list[Tariff]:
    """Versions of a tariff code: the database's when it has them, else the shipped files'."""
    try:
        from .models import Tariff as TariffRow

        rows = list(TariffRow.objects.filter(code=code))
        if rows:
            return [r.as_rule() for r in rows]
    except Exception:  # noqa: BLE001 - no database (bill-calc outside an installation)
        pass
    return [t for t in shipped() if t.code == code]


@lru_cache(maxsize=1)
def time_limits() -> dict:
    return yaml.safe_load((DATA_DIR / "time-limits.yaml").read_text(encoding="utf-8"))


def late_rules() -> LateRules:
    return LateRules.from_yaml(time_limits()["arrears"]["late_payment_charge"])


def arrears_limits() -> dict:
    return time_limits()["arrears"]
