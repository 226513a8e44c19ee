"""The outage capability's data tables: notice leads and frequent-outage thresholds from
data/time-limits.yaml, everything else from outage-rules.yaml next to this file."""
from functools import lru_cache
from pathlib import Path

import yaml

from gridcare.core.taxonomy import DATA_DIR

RULES_FILE = Path(__file__).resolve().parent / "outage-rules.yaml"


@lru_cache(maxsize=1)
def time_limits() -> dict:
    with open(DATA_DIR / "time-limits.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=1)
def rules() -> dict:
    with open(RULES_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def notice_limits() -> dict:
    return time_limits()["outage_notice"]


def frequent_outage() -> dict:
    fo = time_limits()["frequent_outage"]
    return {"outages": int(fo["outages"]), "window_days": int(fo["window_days"]),
            "sustained_minutes": float(rules()["sustained_minutes"])}


def sustained_minutes() -> float:
    return float(rules()["sustained_minutes"])


def delivery() -> dict:
    return rules()["delivery"]
