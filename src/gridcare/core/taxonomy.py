"""The work-order taxonomy (codes used everywhere), loaded from the project's copy of
shared/domain/taxonomy.yaml (kept in sync by a test)."""
from functools import lru_cache
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@lru_cache(maxsize=1)
def taxonomy() -> dict:
    with open(DATA_DIR / "taxonomy.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def choices(section: str) -> list[tuple[str, str]]:
    return [(code, label) for code, label in taxonomy()[section].items()]


def order_type_choices():
    return choices("order_types")


def customer_class_choices():
    return choices("customer_classes")


def area_kind_choices():
    return choices("area_kinds")


def fault_kind_choices():
    return choices("fault_kinds")


def category_l1_choices():
    return [(code, node["label"]) for code, node in taxonomy()["complaint_categories"].items()]


def category_l2_choices():
    out = []
    for node in taxonomy()["complaint_categories"].values():
        out.extend(node["children"].items())
    return out


def category_parent(l2: str) -> str | None:
    for code, node in taxonomy()["complaint_categories"].items():
        if l2 in node["children"]:
            return code
    return None
