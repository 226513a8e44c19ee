"""Pure rules of the business hall: queueing formulas (Erlang C), a discrete-event simulation of the same
queue, the waiting-time estimate shown on a ticket, opening hours, parsing of the service level, traffic
profiles and the next month's forecast. No ORM, no I/O: plain numbers, dates and dicts in and out."""
from __future__ import annotations

import heapq
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta


class RuleError(ValueError):
    """Input a rule refuses; the message is Chinese and shown as is (CLI stderr, API 400)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


# ---------------------------------------------------------------- Erlang C (M/M/c, FCFS, no abandonment)
def offered_load(arrivals_per_hour: float, service_minutes: float) -> float:
    """Offered load A in erlangs: arrival rate × mean service time (same time unit)."""
    check_rates(arrivals_per_hour, service_minutes)
    return arrivals_per_hour * service_minutes / 60.0


def check_rates(arrivals_per_hour, service_minutes, target_seconds=0.0):
    if arrivals_per_hour is None or not math.isfinite(arrivals_per_hour) or arrivals_per_hour <= 0:
        raise RuleError("arrivals_per_hour", "每小时到达人数必须大于0")
    if service_minutes is None or not math.isfinite(service_minutes) or service_minutes <= 0:
        raise RuleError("service_minutes", "平均办理时长（分钟）必须大于0")
    if target_seconds is None or not math.isfinite(target_seconds) or target_seconds < 0:
        raise RuleError("target_seconds", "目标等候时间（秒）不能为负数")


def erlang_b(servers: int, load: float) -> float:
    """Erlang B blocking probability by the stable recurrence B(k) = A·B(k-1) / (k + A·B(k-1))."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival has to wait (Erlang C); 1.0 when the queue is unstable (A ≥ c)."""
    if servers <= 0 or load >= servers:
        return 1.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1 - b))


@dataclass(frozen=True)
class QueueFigures:
    windows: int
    offered_load: float
    stable: bool
    probability_wait: float | None
    service_level: float | None          # share served within the target
    average_wait_seconds: float | None   # mean wait of all customers (ASA)
    occupancy: float | None

    def as_dict(self) -> dict:
        return {"windows": self.windows, "offered_load": round(self.offered_load, 6), "stable": self.stable,
                "probability_wait": _r(self.probability_wait), "service_level": _r(self.service_level),
                "average_wait_seconds": _r(self.average_wait_seconds, 3), "occupancy": _r(self.occupancy)}


def _r(value, digits=6):
    return None if value is None else round(value, digits)


def queue_figures(windows: int, arrivals_per_hour: float, service_minutes: float, target_seconds: float) -> QueueFigures:
    """Erlang C figures of `windows` counters; waiting figures None when arrivals exceed capacity."""
    check_rates(arrivals_per_hour, service_minutes, target_seconds)
    if windows is None or windows < 1:
        raise RuleError("windows", "窗口数必须为正整数")
    load = arrivals_per_hour * service_minutes / 60.0
    if load >= windows:
        return QueueFigures(windows, load, False, None, None, None, None)
    pw = erlang_c(windows, load)
    service_s = service_minutes * 60.0
    level = 1.0 - pw * math.exp(-(windows - load) * target_seconds / service_s)
    asa = pw * service_s / (windows - load)
    return QueueFigures(windows, load, True, pw, level, asa, load / windows)


def parse_service_level(value) -> float:
    """The target share: 0 < L < 1 is a fraction (0.8 = 80 %); 1 < L < 100 is a percentage (80 = 80 %).
    1 and 100 (everyone within the target) cannot be reached by a queue with random arrivals."""
    try:
        level = float(value)
    except (TypeError, ValueError):
        raise RuleError("service_level", f"服务水平“{value}”不是数字，应为0到1之间的小数（如0.8）或百分数（如80）") from None
    if not math.isfinite(level) or level <= 0:
        raise RuleError("service_level", "服务水平必须大于0（如0.8或80表示80%）")
    if level >= 1:
        if level == 1 or level >= 100:
            raise RuleError("service_level", "服务水平必须小于100%：随机到达的排队无法保证全部客户在目标时间内办理")
        level = level / 100.0
    return level


MAX_EXTRA_WINDOWS = 10_000


def windows_needed(arrivals_per_hour: float, service_minutes: float, target_seconds: float,
                   service_level: float) -> QueueFigures:
    """The fewest windows whose Erlang C service level reaches `service_level` (a fraction)."""
    check_rates(arrivals_per_hour, service_minutes, target_seconds)
    if not 0 < service_level < 1:
        raise RuleError("service_level", "服务水平必须在0与1之间")
    load = arrivals_per_hour * service_minutes / 60.0
    c = max(1, math.floor(load) + 1)
    limit = c + MAX_EXTRA_WINDOWS
    while c <= limit:
        figures = queue_figures(c, arrivals_per_hour, service_minutes, target_seconds)
        if figures.service_level >= service_level:
            return figures
        c += 1
    raise RuleError("service_level", "所需窗口数超出计算范围，请检查输入")  # pragma: no cover - SL → 1 as c grows


# ---------------------------------------------------------------- discrete-event simulation
@dataclass(frozen=True)
class SimulationResult:
    customers: int
    probability_wait: float
    service_level: float
    average_wait_seconds: float
    max_wait_seconds: float


def simulate_queue(windows: int, arrivals_per_hour: float, service_minutes: float, target_seconds: float,
                   hours: float = 20000.0, seed: int = 1, warmup_hours: float = 20.0,
                   service_cv: float = 1.0) -> SimulationResult:
    """Simulate the same hour as a stationary M/M/c queue (Poisson arrivals, exponential service when
    `service_cv` = 1; 0 gives fixed service times), first come first served, each customer going to the
    counter that frees first. Statistics over `hours` after a warm-up. Deterministic for a seed. The default
20,000 hours (360,000 customers at 18/h, about 0.2 s) keeps a seed's mean wait within a few percent of
the exact figure; 2,000 hours left it 13 % off for some seeds (a queue's waits are strongly correlated)."""
    check_rates(arrivals_per_hour, service_minutes, target_seconds)
    rng = random.Random(seed)
    lam = arrivals_per_hour / 3600.0
    mean_s = service_minutes * 60.0
    free = [0.0] * windows            # the time each counter frees; a heap
    heapq.heapify(free)
    t, start_stats, end = 0.0, warmup_hours * 3600.0, (warmup_hours + hours) * 3600.0
    n = waited = within = 0
    total_wait = max_wait = 0.0
    if service_cv == 1.0:
        draw = lambda: rng.expovariate(1.0 / mean_s)  # noqa: E731
    elif service_cv == 0:
        draw = lambda: mean_s  # noqa: E731
    else:  # gamma with the given coefficient of variation
        shape = 1.0 / (service_cv ** 2)
        draw = lambda: rng.gammavariate(shape, mean_s / shape)  # noqa: E731
    while True:
        t += rng.expovariate(lam)
        if t > end:
            break
        earliest = free[0]
        start = earliest if earliest > t else t
        heapq.heapreplace(free, start + draw())
        if t >= start_stats:
            wait = start - t
            n += 1
            total_wait += wait
            if wait > 0:
                waited += 1
            if wait <= target_seconds:
                within += 1
            if wait > max_wait:
                max_wait = wait
    if n == 0:
        return SimulationResult(0, 0.0, 1.0, 0.0, 0.0)
    return SimulationResult(n, waited / n, within / n, total_wait / n, max_wait)


# ---------------------------------------------------------------- waiting-time estimate
def estimate_wait_seconds(ahead: int, windows_open: int, mean_service_seconds: float, busy_windows: int) -> int | None:
    """Expected wait of a new ticket with `ahead` people before it in its service type, `windows_open`
    counters serving the type (`busy_windows` of them with a customer) and the type's recent mean
    service time. Each counter clears a customer every `mean` seconds, so the people ahead take
    ahead/c × mean; when every counter is busy the first one frees, on average, after mean/(c+1) (the
    minimum of c remaining service times uniform over one service). None when no counter serves it."""
    if windows_open <= 0:
        return None
    ahead = max(0, ahead)
    wait = ahead / windows_open * mean_service_seconds
    if busy_windows >= windows_open or ahead > 0:
        wait += mean_service_seconds / (windows_open + 1)
    return int(round(wait))


def mean_or_default(samples: list[float], default: float, min_history: int) -> float:
    """The mean of recent service times, or the configured default while there are too few."""
    samples = [s for s in samples if s is not None and s > 0]
    if len(samples) < max(1, min_history):
        return default
    return sum(samples) / len(samples)


def estimate_error(pairs: list[tuple[float, float]]) -> dict:
    """Accuracy of estimates against real waits (seconds): count, mean error (bias: + means the estimate
    was too high), mean absolute error and the share within 5 minutes."""
    pairs = [(e, a) for e, a in pairs if e is not None and a is not None]
    if not pairs:
        return {"count": 0, "bias_seconds": None, "mae_seconds": None, "within_5min": None}
    errors = [e - a for e, a in pairs]
    return {"count": len(pairs), "bias_seconds": round(sum(errors) / len(errors), 1),
            "mae_seconds": round(sum(abs(x) for x in errors) / len(errors), 1),
            "within_5min": round(sum(1 for x in errors if abs(x) <= 300) / len(errors), 4)}


# ---------------------------------------------------------------- opening hours
def _hm(text: str) -> time | None:
    if text in ("24:00", "24:00:00"):
        return None  # end of day
    h, m = text.split(":")[:2]
    return time(int(h), int(m))


def is_open(hours: dict, closed_dates: list[str], moment: datetime) -> bool:
    """Whether a hall with these opening hours ({weekday "0"-"6": [["08:30","17:30"], ...]}) and closed
    dates (ISO) is open at `moment` (local time)."""
    if moment.date().isoformat() in set(closed_dates or []):
        return False
    now = moment.time()
    for start, end in hours.get(str(moment.weekday()), []):
        s, e = _hm(start), _hm(end)
        if s <= now and (e is None or now < e):
            return True
    return False


def opening_hours_label(hours: dict, weekday: int) -> str:
    spans = hours.get(str(weekday), [])
    return "、".join(f"{a}-{b}" for a, b in spans) if spans else "休息"


def open_hours_of_day(hours: dict, weekday: int) -> list[int]:
    """The clock hours (0-23) during which the hall is open at least part of the hour."""
    out = set()
    for start, end in hours.get(str(weekday), []):
        s = _hm(start)
        e = _hm(end)
        end_min = 24 * 60 if e is None else e.hour * 60 + e.minute
        for h in range(s.hour, 24):
            if h * 60 < end_min:
                out.add(h)
    return sorted(out)


def slots_of_day(hours: dict, day: date, slot_minutes: int) -> list[tuple[time, time]]:
    """Appointment slots within the opening hours of `day`."""
    out = []
    for start, end in hours.get(str(day.weekday()), []):
        s = datetime.combine(day, _hm(start))
        e_t = _hm(end)
        e = datetime.combine(day + timedelta(days=1), time(0)) if e_t is None else datetime.combine(day, e_t)
        while s + timedelta(minutes=slot_minutes) <= e:
            out.append((s.time(), (s + timedelta(minutes=slot_minutes)).time()))
            s += timedelta(minutes=slot_minutes)
    return out


# ---------------------------------------------------------------- queue order
def queue_key(priority: int, issued_at) -> tuple:
    """Calling order: higher priority first, then order of issue."""
    return (-priority, issued_at)


def people_ahead(my_priority: int, my_issued_at, others: list[tuple[int, object]]) -> int:
    """How many waiting tickets (priority, issued_at) of the same type are called before mine."""
    mine = queue_key(my_priority, my_issued_at)
    return sum(1 for p, at in others if queue_key(p, at) < mine)


# ---------------------------------------------------------------- traffic and forecast
def arrivals_profile(counts: dict[tuple[date, int], int]) -> dict:
    """From arrivals per (day, hour): the mean per clock hour over days with any arrivals, and the
    mean per day of month (1-31)."""
    days = sorted({d for d, _h in counts})
    per_day = defaultdict(int)
    per_hour = defaultdict(int)
    for (d, h), n in counts.items():
        per_day[d] += n
        per_hour[h] += n
    open_days = [d for d in days if per_day[d] > 0] or days
    by_hour = {h: per_hour[h] / len(open_days) for h in sorted(per_hour)} if open_days else {}
    dom_total, dom_days = defaultdict(int), defaultdict(int)
    for d in open_days:
        dom_total[d.day] += per_day[d]
        dom_days[d.day] += 1
    by_dom = {dom: dom_total[dom] / dom_days[dom] for dom in sorted(dom_total)}
    return {"days": len(open_days), "total": sum(per_day.values()), "by_hour": by_hour, "by_day_of_month": by_dom}


def forecast_month(counts: dict[tuple[date, int], int], year: int, month: int, months_back: int = 3,
                   open_weekdays: set[int] | None = None) -> dict[date, dict[int, float]]:
    """Arrivals per hour for every day of (year, month) from the history of the last `months_back`
    months: level = mean arrivals per open day of the latest month; day-of-month factor = that day's mean
    over the window ÷ the window's mean (bills are computed on the 1st-9th, so payments peak on the
    10th-25th); hour shape = the window's share of a day's arrivals per clock hour. Days on which the hall
    is closed (weekdays not in `open_weekdays`) get nothing."""
    first = date(year, month, 1)
    window_start = _add_months(first, -months_back)
    last_month = _add_months(first, -1)
    window = {k: v for k, v in counts.items() if window_start <= k[0] < first}
    if not window:
        return {}
    per_day = defaultdict(int)
    per_hour = defaultdict(int)
    for (d, h), n in window.items():
        per_day[d] += n
        per_hour[h] += n
    active = {d: n for d, n in per_day.items() if n > 0}
    mean_day = sum(active.values()) / len(active)
    dom_sum, dom_n = defaultdict(int), defaultdict(int)
    for d, n in active.items():
        dom_sum[d.day] += n
        dom_n[d.day] += 1
    recent = [n for d, n in active.items() if d >= last_month] or list(active.values())
    level = sum(recent) / len(recent)
    total = sum(per_hour.values())
    shape = {h: per_hour[h] / total for h in sorted(per_hour)}
    out = {}
    d = first
    while d.month == month:
        if open_weekdays is None or d.weekday() in open_weekdays:
            factor = (dom_sum[d.day] / dom_n[d.day] / mean_day) if dom_n.get(d.day) else 1.0
            out[d] = {h: level * factor * share for h, share in shape.items()}
        d += timedelta(days=1)
    return out


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def staffing_plan(arrivals_by_hour: dict[int, float], service_minutes: float, target_seconds: float,
                  service_level: float, online_share: float = 0.0, payment_share: float = 0.0) -> list[dict]:
    """Windows needed per clock hour. What-if: `online_share` of payments (which are `payment_share` of
    the arrivals) move online, so the counter sees arrivals × (1 − payment_share × online_share)."""
    if not 0 <= online_share <= 1 or not 0 <= payment_share <= 1:
        raise RuleError("online_share", "转移比例必须在0到1之间")
    rows = []
    for hour in sorted(arrivals_by_hour):
        lam = arrivals_by_hour[hour] * (1 - payment_share * online_share)
        if lam <= 0:
            rows.append({"hour": hour, "arrivals": 0.0, "windows": 0, "offered_load": 0.0, "service_level": None,
                         "average_wait_seconds": None})
            continue
        fig = windows_needed(lam, service_minutes, target_seconds, service_level)
        rows.append({"hour": hour, "arrivals": round(lam, 2), "windows": fig.windows,
                     "offered_load": round(fig.offered_load, 3), "service_level": round(fig.service_level, 4),
                     "average_wait_seconds": round(fig.average_wait_seconds, 1)})
    return rows
