"""hall.yaml (src/gridcare/hall/data/hall.yaml): service types, priorities, opening hours, checklist…"""
from functools import lru_cache
from pathlib import Path

import yaml

PATH = Path(__file__).resolve().parent / "data" / "hall.yaml"


@lru_cache(maxsize=1)
def config() -> dict:
    with open(PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def service_types() -> dict:
    return config()["service_types"]


def service_type_choices():
    return [(code, spec["label"]) for code, spec in service_types().items()]


def service_label(code: str) -> str:
    spec = service_types().get(code)
    return spec["label"] if spec else code


def priorities() -> dict:
    return config()["priorities"]


def checklist() -> list[dict]:
    return config()["inspection_checklist"]
