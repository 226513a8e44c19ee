"""Pure rules of the reports: periods and presets, percentiles, 台区 hot-spot sets, stage spans from an
order's history, and term counting. No ORM, no I/O (the settings YAML is read by `settings()` once)."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

TZ = ZoneInfo("Asia/Shanghai")
DATA_DIR = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def settings() -> dict:
    """analytics/data/reports.yaml: limits and thresholds an administrator may change."""
    with open(DATA_DIR / "reports.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=1)
def stopwords() -> frozenset:
    with open(DATA_DIR / "stopwords.txt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip() and not line.startswith("#"))


# ------------------------------------------------------------------------------------------ periods


class PeriodError(ValueError):
    """A period that cannot be reported on; `field` names the input at fault, the message is Chinese."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class Period:
    start: dt.date   # inclusive
    end: dt.date     # inclusive

    def __post_init__(self):
        if self.end < self.start:
            raise PeriodError("to", f"结束日期 {self.end.isoformat()} 早于开始日期 {self.start.isoformat()}，"
                                    "请检查时间段")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> dt.datetime:
        """00:00 of the first day, Asia/Shanghai."""
        return dt.datetime.combine(self.start, dt.time(), TZ)

    @property
    def end_at(self) -> dt.datetime:
        """00:00 of the day after the last day (exclusive bound)."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), TZ)

    def previous(self) -> Period:
        """The period of the same length just before (a calendar month/quarter/year gives the previous one)."""
        if _is_month_span(self):
            months = _month_count(self)
            first = add_months(self.start, -months)
            return Period(first, add_months(first, months) - dt.timedelta(days=1))
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def last_year(self) -> Period:
        """The same dates one year earlier (29 February becomes 28 February)."""
        return Period(shift_year(self.start, -1), shift_year(self.end, -1))

    def label(self) -> str:
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, 1) if day.day == 1 else _clamp(year, month + 1, day.day)


def _clamp(year, month, day):
    import calendar

    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def shift_year(day: dt.date, years: int) -> dt.date:
    return _clamp(day.year + years, day.month, day.day)


def _is_month_span(p: Period) -> bool:
    return p.start.day == 1 and (p.end + dt.timedelta(days=1)).day == 1


def _month_count(p: Period) -> int:
    after = p.end + dt.timedelta(days=1)
    return (after.year - p.start.year) * 12 + after.month - p.start.month


PRESETS = {"month": "本月", "quarter": "本季度", "year": "本年", "last_month": "上月", "last_quarter": "上季度",
           "last_year": "上年"}


def preset_period(preset: str, today: dt.date) -> Period:
    """Calendar month / quarter / year containing `today`, or the previous one (last_*)."""
    if preset in ("month", "last_month"):
        first = today.replace(day=1)
        if preset == "last_month":
            first = add_months(first, -1)
        return Period(first, add_months(first, 1) - dt.timedelta(days=1))
    if preset in ("quarter", "last_quarter"):
        first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        if preset == "last_quarter":
            first = add_months(first, -3)
        return Period(first, add_months(first, 3) - dt.timedelta(days=1))
    if preset in ("year", "last_year"):
        year = today.year - (preset == "last_year")
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31))
    raise PeriodError("preset", f"未知的时间段“{preset}”（可选：{'、'.join(f'{k} {v}' for k, v in PRESETS.items())}）")


def parse_date(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise PeriodError(field, f"日期格式不正确：“{text}”（应为 YYYY-MM-DD，如 2026-03-01）") from None


def check_interactive(period: Period, max_days: int | None = None) -> bool:
    """True when the period may be computed while the user waits; longer ones run in the background."""
    max_days = max_days or settings()["interactive_max_days"]
    return period.days <= max_days


# ------------------------------------------------------------------------------------------ numbers


def share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def percent(count: int, total: int) -> float:
    return round(100 * count / total, 2) if total else 0.0


def percentile_positions(n: int, q: float) -> tuple[int, int, float]:
    """1-based row positions around the q-quantile of n sorted values and the interpolation weight of
    the upper one: the definition of PostgreSQL's percentile_cont (linear between closest ranks)."""
    pos = q * (n - 1)
    lower = math.floor(pos)
    return lower + 1, min(lower + 2, n), pos - lower


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    lo, hi, w = percentile_positions(len(sorted_values), q)
    return sorted_values[lo - 1] + (sorted_values[hi - 1] - sorted_values[lo - 1]) * w


# ------------------------------------------------------------------------------------------ 台区 hot spots


def month_key(year: int, month: int) -> int:
    return year * 100 + month


def previous_month(key: int, months: int = 1) -> int:
    index = (key // 100) * 12 + key % 100 - 1 - months
    return month_key(index // 12, index % 12 + 1)


def month_text(key: int) -> str:
    return f"{key // 100}-{key % 100:02d}"


def months_in(period: Period) -> list[int]:
    out, day = [], period.start.replace(day=1)
    while day <= period.end:
        out.append(month_key(day.year, day.month))
        day = add_months(day, 1)
    return out


def consecutive_month_hits(pairs: Iterable[tuple[object, int]], months: list[int], lag: int) -> dict:
    """{taiqu: [months M of `months` with complaints in M and in M − lag]} for 台区 having any.
    lag 1 = consecutive months; lag 12 = the same month of consecutive years. `pairs` are the
    (taiqu, yyyymm) with complaints, including the months before the period the lag reaches."""
    have = set(pairs)
    out = {}
    for taiqu, month in sorted(have, key=lambda p: (str(p[0]), p[1])):
        if month in months and (taiqu, previous_month(month, lag)) in have:
            out.setdefault(taiqu, []).append(month)
    return out


# ------------------------------------------------------------------------------------------ stage spans

BREAKS_PASS = ("reopen", "reject")


@dataclass
class StageSpan:
    limit_key: str
    start: dt.datetime          # when the clock started (acceptance or entry into the stage)
    end: dt.datetime | None     # when the order left the last stage under this limit (None: still in it)
    actor_id: int | None        # who moved it on


def stage_spans(clocks: dict, accepted_at: dt.datetime, events: list[tuple]) -> list[StageSpan]:
    """The first pass through each time-limited stage of an order.

    `clocks` is the workflow's {stage: (limit key, "enter"|"accepted")}; `events` are the order's
    (kind, to_stage, at, actor_id) of kinds create/advance/reopen/reject in time order. The first pass
    ends at the first reopen or rejection (that event ends the stage it leaves). A limit governing
    several stages (complaint 处理: from acceptance to 回单) spans from its clock start to leaving the
    last of them."""
    passes, broken = [], False
    for kind, stage, at, actor in events:
        passes.append((stage, at, actor))
        if kind in BREAKS_PASS:
            broken = True
            break
    spans: dict[str, StageSpan] = {}
    # the breaking event only ends the stage before it: it does not enter a stage of the first pass
    for i, (stage, entered, _actor) in enumerate(passes[:-1] if broken else passes):
        spec = clocks.get(stage)
        if spec is None:
            continue
        key, ref = spec
        nxt = passes[i + 1] if i + 1 < len(passes) else None
        span = spans.get(key)
        if span is None:
            span = spans[key] = StageSpan(key, accepted_at if ref == "accepted" else entered, None, None)
        span.end, span.actor_id = (nxt[1], nxt[2]) if nxt else (None, None)
    return list(spans.values())


# ------------------------------------------------------------------------------------------ terms

_KEEP = re.compile(r"^[\u4e00-\u9fffA-Za-z]{2,}$")


# Parts of speech kept (jieba's tags): nouns, verbs, adjectives, idioms — but not place or person names
# (a village's name says where, not what), numerals, measure words, pronouns, adverbs or particles.
KEEP_TAGS = ("n", "v", "a", "l", "i", "j", "eng")
DROP_TAGS = ("ns", "nr", "nrt", "nrfg", "nt")


def keep_tag(flag: str) -> bool:
    return flag.startswith(KEEP_TAGS) and not flag.startswith(DROP_TAGS)


def segment(text: str, cut=None, stop: frozenset | None = None) -> list[str]:
    """The content words of a complaint text in order (jieba with part-of-speech tags; words of 2+
    characters, no stop words, names of places and people, numbers or punctuation). `cut` (for tests)
    is a plain word cutter without tags."""
    stop = stopwords() if stop is None else stop
    if cut is None:
        import jieba.posseg

        words = [w.word for w in jieba.posseg.lcut(text or "") if keep_tag(w.flag)]
    else:
        words = cut(text or "")
    return [w for w in words if _KEEP.match(w) and w not in stop]


def top_terms(docs: Iterable[list[str]], n: int = 10, phrases: bool = True) -> list[tuple[str, int]]:
    """The n terms (and two-word phrases of adjacent terms) found in the most documents; ties by text.
    A phrase is listed when it occurs in at least two documents."""
    counts: Counter = Counter()
    phrase_counts: Counter = Counter()
    for terms in docs:
        counts.update(set(terms))
        if phrases:
            phrase_counts.update({a + b for a, b in zip(terms, terms[1:]) if a != b} - set(terms))
    counts.update({p: c for p, c in phrase_counts.items() if c >= 2})
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def id_gaps(after: int, ids: Iterable[int]) -> list[tuple[int, int]]:
    """The ranges of ids missing from `ids` (ascending) between `after` (excluded) and the last of them:
    [(first, last), ...]. A StageEvent id can be missing for good (its transaction rolled back) or for now
    (its transaction has not committed yet, while a later one has)."""
    gaps, prev = [], after
    for i in ids:
        if i > prev + 1:
            gaps.append((prev + 1, i - 1))
        prev = max(prev, i)
    return gaps


def without_ids(ranges: Iterable[tuple], found: Iterable[int]) -> list[tuple]:
    """`ranges` of ids, (first, last, *anything carried along), with the `found` ones taken out (a range
    split around them, each part carrying what its range carried)."""
    found = sorted(set(found))
    out = []
    for lo, hi, *rest in ranges:
        start = lo
        for i in found:
            if i < start or i > hi:
                continue
            if i > start:
                out.append((start, i - 1, *rest))
            start = i + 1
        if start <= hi:
            out.append((start, hi, *rest))
    return out
