"""`gridcare demo-data`: a deterministic, county-scale utility calibrated to shared/domain/calibration.md.

Each app contributes a step (`register_step(order, name)`); steps run in order and share a `DemoContext`
(seeded random generator, sizes, and what earlier steps built). Later capabilities add their own step
(work orders, outages, reads) in their app's `demo.py`."""
import importlib
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.apps import apps

TZ = ZoneInfo("Asia/Shanghai")
_STEPS: list[tuple[int, str, callable]] = []

DEMO_PASSWORD = "gridcare123"


def register_step(order: int, name: str):
    def deco(fn):
        _STEPS.append((order, name, fn))
        return fn
    return deco


@dataclass
class DemoContext:
    seed: int
    customers: int
    months: int = 12
    orders: int | None = None  # None = calibrated default for the customer count
    today: datetime = field(default_factory=lambda: datetime(2026, 11, 1, tzinfo=TZ))
    rng: random.Random = None
    out: dict = field(default_factory=dict)
    log: callable = print

    def __post_init__(self):
        self.rng = random.Random(self.seed)


def load_steps():
    for config in apps.get_app_configs():
        if config.name.startswith("gridcare."):
            try:
                importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
    seen, steps = set(), []
    for order, name, fn in sorted(_STEPS, key=lambda s: s[0]):
        if name not in seen:
            seen.add(name)
            steps.append((order, name, fn))
    return steps


def run(ctx: DemoContext, only: set[str] | None = None):
    for _order, name, fn in load_steps():
        if only and name not in only:
            continue
        started = time.monotonic()
        summary = fn(ctx)
        ctx.log(f"[demo-data] {name}: {summary} ({time.monotonic() - started:.1f}s)")
