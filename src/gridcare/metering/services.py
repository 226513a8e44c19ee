"""Metering operations: manual and imported reads through VEE, exception resolution with a reason,
estimation and the automatic rebill when the next actual read differs from an estimate."""
from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from gridcare.accounts.permissions import require
from gridcare.core.api_support import Conflict, DomainError
from gridcare.customers.models import Customer
from gridcare.grid.models import Meter

from . import rules
from .models import (ExceptionStatus, MeterExchange, MeterRead, ReadBatch, ReadException, ReadSource, ReadStatus,
                     Resolution)

# Something that explains zero consumption: fn(customer, start, end) -> str | None. The outages app
# registers one (a planned/fault outage covering the account); billing adds vacancy.
ZERO_EXPLAINERS: list = []


def _vacancy(customer, start, end):
    from gridcare.billing.models import BillingAccount

    acc = BillingAccount.objects.filter(customer=customer).only("status").first()
    return "空置户" if acc and acc.status == "vacant" else None


ZERO_EXPLAINERS.append(_vacancy)


def account_status(customer) -> str:
    from gridcare.billing.models import BillingAccount

    acc = BillingAccount.objects.filter(customer=customer).only("status").first()
    return acc.status if acc else "active"


def period_of(read_at: dt.datetime) -> dt.date:
    """Reads on the reading days (1st–9th) close the previous month; later reads belong to their month."""
    local = timezone.localtime(read_at).date()
    if local.day <= 9:
        prev = local.replace(day=1) - dt.timedelta(days=1)
        return prev.replace(day=1)
    return local.replace(day=1)


def _context(customer, meter, register, read_at, now) -> rules.ReadContext:
    prev = (MeterRead.objects.filter(meter=meter, register=register, read_at__lt=read_at)
            .exclude(status=ReadStatus.REJECTED).order_by("-read_at").first())
    exchange = None
    if prev is None:
        ex = (MeterExchange.objects.filter(customer=customer, new_meter=meter, exchanged_at__lte=read_at)
              .order_by("-exchanged_at").first())
        if ex:
            old_prev = (MeterRead.objects.filter(meter=ex.old_meter, register=register, read_at__lte=ex.exchanged_at)
                        .exclude(status=ReadStatus.REJECTED).order_by("-read_at").first())
            if old_prev:
                exchange = (old_prev.value_kwh, ex.old_final_kwh, ex.new_initial_kwh)
                prev = old_prev
    period = period_of(read_at)
    last_year = period.replace(year=period.year - 1)
    same = (MeterRead.objects.filter(customer=customer, register="total", period=last_year,
                                     status__in=[ReadStatus.VALID, ReadStatus.ESTIMATED])
            .aggregate(k=Sum("consumption_kwh"))["k"])
    recent = list(MeterRead.objects.filter(customer=customer, register="total", period__lt=period,
                                           status__in=[ReadStatus.VALID, ReadStatus.ESTIMATED],
                                           consumption_kwh__isnull=False)
                  .order_by("-period").values_list("consumption_kwh", flat=True)[:3])
    estimates = 0
    for r in MeterRead.objects.filter(meter=meter, register=register, read_at__lt=read_at).order_by("-read_at")[:5]:
        if r.source != ReadSource.ESTIMATE:
            break
        estimates += 1
    start = prev.read_at if prev else read_at - dt.timedelta(days=30)
    explained = next((x for x in (fn(customer, start, read_at) for fn in ZERO_EXPLAINERS) if x), None)
    return rules.ReadContext(now=now, previous_value=prev.value_kwh if prev else None,
                             previous_at=prev.read_at if prev and not exchange else (prev.read_at if prev else None),
                             exchange=exchange, account_status=account_status(customer), zero_explained=explained,
                             expected_kwh=rules.expected_usage(same, recent), consecutive_estimates=estimates)


def check_meter(customer: Customer, meter_no: str) -> Meter:
    meter = Meter.objects.filter(meter_no=meter_no).first()
    if meter is None:
        raise DomainError({"meter_no": f"电能表 {meter_no} 不存在"})
    if meter.customer_id != customer.pk:
        raise DomainError({"meter_no": f"电能表 {meter_no} 不属于户号 {customer.account_no}"})
    return meter


def do_record_read(user, customer: Customer, meter_no: str, read_at: dt.datetime, value, register="total",
                   source=ReadSource.MANUAL, batch: ReadBatch | None = None, now=None,
                   check_permission=True) -> MeterRead:
    """Store one read after VEE. Refused input raises DomainError; findings open ReadExceptions and hold
    the read (status exception) so it never produces a bill before someone resolves it."""
    if check_permission:  # imports run as the CLI's administrator, audited by the import
        require(user, "metering.read", customer.unit)
    meter = check_meter(customer, meter_no)
    try:
        value = Decimal(str(value))
    except Exception:  # noqa: BLE001
        raise DomainError({"value_kwh": "示数应为数字"}) from None
    now = now or timezone.now()
    ctx = _context(customer, meter, register, read_at, now)
    try:
        kwh, rolled, findings = rules.check_read(value, read_at, register, source, ctx)
    except rules.ReadRejected as exc:
        raise DomainError(exc.errors) from None
    period = period_of(read_at)
    with transaction.atomic():
        read = MeterRead.objects.create(
            customer=customer, meter=meter, unit=customer.unit, read_at=read_at, period=period, register=register,
            value_kwh=value, consumption_kwh=kwh, source=source, rollover=rolled, exchange=bool(ctx.exchange),
            status=(ReadStatus.EXCEPTION if findings else
                    ReadStatus.ESTIMATED if source == ReadSource.ESTIMATE else ReadStatus.VALID), batch=batch)
        for f in findings:
            ReadException.objects.create(customer=customer, meter=meter, unit=customer.unit, read=read, period=period,
                                         rule=f.rule, message=f.message[:300])
        if not findings and source != ReadSource.ESTIMATE:
            rebill_after_estimate(user, customer, read)
    return read


def rebill_after_estimate(user, customer, read: MeterRead):
    """An actual total read after estimated ones: the account's real use since its last actual read is now
    known, so the estimated reads in between are re-estimated by interpolation (rules.estimate_kwh with
    the next actual read: use × elapsed time / whole span), this read's consumption becomes what is left,
    and each estimated bill whose usage differs is corrected automatically (cancel + rebill, audited)."""
    from gridcare.billing.models import Bill, BillStatus
    from gridcare.billing.services import do_rebill

    if read.consumption_kwh is None or read.register != "total" or read.source == ReadSource.ESTIMATE:
        return []
    est = {b.period: b for b in Bill.objects.filter(customer=customer, estimated=True, status=BillStatus.ISSUED)}
    if not est:
        return []
    last = (MeterRead.objects.filter(meter=read.meter, register="total", read_at__lt=read.read_at,
                                     status=ReadStatus.VALID).exclude(source=ReadSource.ESTIMATE)
            .order_by("-read_at").first())
    if last is None:
        return []
    estimates = list(MeterRead.objects.filter(meter=read.meter, register="total", source=ReadSource.ESTIMATE,
                                              status=ReadStatus.ESTIMATED, read_at__gt=last.read_at,
                                              read_at__lt=read.read_at).order_by("read_at"))
    if not estimates:
        return []
    used = read.consumption_kwh + sum((e.consumption_kwh or 0 for e in estimates), Decimal(0))
    span = Decimal((read.read_at - last.read_at).total_seconds())
    top = Decimal(10) ** rules.config().register_digits
    value, changed = last.value_kwh, []
    for e in estimates:
        kwh = rules.estimate_kwh(Decimal((e.read_at - last.read_at).total_seconds()), None, None,
                                 next_actual=(used, span)) - (value - last.value_kwh) % top
        value = value + kwh
        if kwh != e.consumption_kwh:
            e.consumption_kwh, e.value_kwh = kwh, value % top
            e.save(update_fields=["consumption_kwh", "value_kwh"])
            _estimate_tou(e, user, "实抄后按插值重新估算")
            changed.append(e)
    if not changed:
        return []
    read.consumption_kwh = used - sum((e.consumption_kwh for e in estimates), Decimal(0))
    read.save(update_fields=["consumption_kwh"])
    # the actual TOU reads already stored at this read time count from the re-estimated registers
    for tou in MeterRead.objects.filter(meter=read.meter, read_at=read.read_at, register__in=rules.TOU):
        prev = _previous(read.meter, tou.register, read.read_at)
        if prev is not None:
            tou.consumption_kwh = (tou.value_kwh - prev.value_kwh) % top
            tou.save(update_fields=["consumption_kwh"])
    rebilled = []
    for period in sorted({e.period for e in changed}):
        bill = est.get(period)
        if bill is None:
            continue
        usage = _period_usage(customer, period)
        if usage is None or sum(usage.values(), Decimal(0)) == bill.kwh:
            continue
        new = do_rebill(user, bill, usage, "实抄示数与估抄不符，按两次实抄插值自动更正")
        Bill.objects.filter(pk=new.pk).update(estimated=False)
        rebilled.append(new)
    return rebilled


def _previous(meter, register, before) -> MeterRead | None:
    return (MeterRead.objects.filter(meter=meter, register=register, read_at__lt=before)
            .exclude(status=ReadStatus.REJECTED).order_by("-read_at").first())


def _period_usage(customer, period) -> dict | None:
    """A period's billable usage by register, as the bill run sums it (valid and estimated reads): TOU
    registers when the account's tariff is time-of-use, else the total."""
    rows = dict(MeterRead.objects.filter(customer=customer, period=period, status__in=[ReadStatus.VALID,
                                                                                        ReadStatus.ESTIMATED],
                                         consumption_kwh__isnull=False)
                .values_list("register").annotate(k=Sum("consumption_kwh")))
    regs = tou_registers_for(customer)
    if regs:
        return {r: rows[r] for r in regs} if all(r in rows for r in regs) else None
    return {"total": rows["total"]} if "total" in rows else None


def tou_registers_for(customer) -> tuple[str, ...]:
    """The TOU registers the account's tariff bills (empty for a flat or tiered tariff)."""
    from gridcare.billing import catalog
    from gridcare.billing.models import BillingAccount

    acc = BillingAccount.objects.filter(customer=customer).only("tariff_code").first()
    versions = catalog.resolve(acc.tariff_code) if acc else []
    if not versions or not versions[-1].tou:
        return ()
    return tuple(r for r in rules.TOU if r in versions[-1].energy)


def _tou_split(customer, period: dt.date, regs, total_kwh: Decimal) -> dict[str, Decimal]:
    """`total_kwh` split over the TOU registers by the account's own shares of the last 12 months of actual
    reads, else the tariff's default shares (vee.yaml), else equally; the parts sum to the total exactly."""
    year_ago = period.replace(year=period.year - 1)
    history = dict(MeterRead.objects.filter(customer=customer, register__in=regs, status=ReadStatus.VALID,
                                            period__lt=period, period__gte=year_ago, consumption_kwh__isnull=False)
                   .exclude(source=ReadSource.ESTIMATE).values_list("register").annotate(k=Sum("consumption_kwh")))
    return rules.split_tou(total_kwh, rules.tou_shares(regs, history, rules.config().tou_default_shares))


def estimate_register(read: MeterRead) -> Decimal:
    """估抄 of one TOU register (peak, valley …) whose read was found wrong, keeping the registers and the total
    register of the same reading consistent: when the total and every other register of that reading are
    actual valid reads, this register is what they leave (total − others, when not negative); otherwise its
    share (the account's own, else the tariff default) of the total — the reading's valid total, else the
    total estimated from history. A register is never estimated from the total's history as if it were
    the whole month (which billed a month's usage again at peak price)."""
    regs = tou_registers_for(read.customer)
    if read.register not in regs:
        regs = tuple(r for r in rules.TOU if r in {*regs, read.register})
    total = (MeterRead.objects.filter(meter=read.meter, register="total", read_at=read.read_at,
                                      status__in=[ReadStatus.VALID, ReadStatus.ESTIMATED], consumption_kwh__isnull=False)
             .first())
    if total is not None:
        others = [r for r in MeterRead.objects.filter(meter=read.meter, read_at=read.read_at,
                                                      register__in=[r for r in regs if r != read.register])
                  .exclude(status=ReadStatus.REJECTED)]
        if (total.status == ReadStatus.VALID and len(others) == len(regs) - 1
                and all(o.status == ReadStatus.VALID and o.consumption_kwh is not None for o in others)):
            rest = total.consumption_kwh - sum((o.consumption_kwh for o in others), Decimal(0))
            if rest >= 0:
                return rest
        total_kwh = total.consumption_kwh
    else:
        total_kwh = estimate_from_history(read.customer, read.period, read.read_at)
    return _tou_split(read.customer, read.period, regs, total_kwh)[read.register]


def _estimate_tou(read: MeterRead, user, reason: str) -> list[MeterRead]:
    """An estimated total read of an account billed by time of use: its TOU registers are estimated too —
    the total split by the account's own TOU shares of the last 12 months of actual reads (else the
    tariff's default shares of vee.yaml), summing to the total exactly (rules.split_tou) — and marked
    estimated; their open exceptions are resolved with the total's reason. Without them a TOU bill could
    not be priced and would stay held."""
    regs = tou_registers_for(read.customer)
    if not regs or read.consumption_kwh is None:
        return []
    parts = _tou_split(read.customer, read.period, regs, read.consumption_kwh)
    top = Decimal(10) ** rules.config().register_digits
    out = []
    now = timezone.now()
    for reg, kwh in parts.items():
        prev = _previous(read.meter, reg, read.read_at)
        value = ((prev.value_kwh if prev else Decimal(0)) + kwh) % top
        row = (MeterRead.objects.filter(meter=read.meter, register=reg, read_at=read.read_at)
               .exclude(status=ReadStatus.REJECTED).first())
        if row is None:
            row = MeterRead(customer=read.customer, meter=read.meter, unit=read.unit, read_at=read.read_at,
                            period=read.period, register=reg)
        else:
            row.exceptions.filter(status=ExceptionStatus.OPEN).update(
                status=ExceptionStatus.RESOLVED, resolution=Resolution.ESTIMATE, reason=f"随总电量估算：{reason}"[:300],
                resolved_by=user if getattr(user, "pk", None) else None, resolved_at=now)
        row.value_kwh, row.consumption_kwh = value, kwh
        row.source, row.status = ReadSource.ESTIMATE, ReadStatus.ESTIMATED
        row.save()
        out.append(row)
    return out


def do_resolve(user, exc: ReadException, resolution: str, reason: str, estimate_kwh=None) -> ReadException:
    require(user, "metering.read", exc.unit)
    if exc.status != ExceptionStatus.OPEN:
        raise Conflict({"status": "该异常已处理"})
    if resolution not in Resolution.values:
        raise DomainError({"resolution": "处理方式应为 " + "、".join(f"{c}({l})" for c, l in Resolution.choices)})
    if not (reason or "").strip():
        raise DomainError({"reason": "须填写处理原因"})
    with transaction.atomic():
        exc.status, exc.resolution, exc.reason = ExceptionStatus.RESOLVED, resolution, reason.strip()[:300]
        exc.resolved_by, exc.resolved_at = user, timezone.now()
        exc.save()
        read = exc.read
        if read and not read.exceptions.filter(status=ExceptionStatus.OPEN).exists():
            if resolution == Resolution.REJECT or resolution == Resolution.REREAD:
                read.status = ReadStatus.REJECTED
            elif resolution == Resolution.ESTIMATE:
                if estimate_kwh is not None:
                    read.consumption_kwh = _decimal_kwh(estimate_kwh)
                elif read.register != "total":
                    read.consumption_kwh = estimate_register(read)
                else:
                    read.consumption_kwh = estimate_from_history(exc.customer, read.period, read.read_at)
                # the register value follows the estimate (previous value + estimated kWh), so the next actual
                # read is checked against it and not against the wrong figure; that figure stays in the reason
                prev = _previous(read.meter, read.register, read.read_at)
                if prev is not None and prev.value_kwh is not None and read.consumption_kwh is not None:
                    value = (prev.value_kwh + read.consumption_kwh) % (Decimal(10) ** rules.config().register_digits)
                    if value != read.value_kwh:
                        exc.reason = f"{exc.reason}（原录入示数 {read.value_kwh}）"[:300]
                        exc.save(update_fields=["reason"])
                        read.value_kwh = value
                read.status, read.source = ReadStatus.ESTIMATED, ReadSource.ESTIMATE
            else:
                read.status = ReadStatus.VALID
            read.save()
            if resolution == Resolution.ESTIMATE and read.register == "total":
                _estimate_tou(read, user, exc.reason)
        elif read is None and exc.rule == "missed_read" and resolution == Resolution.ESTIMATE:
            _estimated_read_for_missed(exc, estimate_kwh)
    return exc


def _decimal_kwh(value) -> Decimal:
    try:
        d = Decimal(str(value))
    except Exception:  # noqa: BLE001
        raise DomainError({"estimate_kwh": "估算电量应为数字"}) from None
    if not d.is_finite() or d < 0:
        raise DomainError({"estimate_kwh": "估算电量应为非负数"})
    return d.quantize(Decimal("0.01"))


def _history(customer, period: dt.date) -> tuple[Decimal | None, Decimal | None]:
    """(expected month kWh: same month last year, else the mean of the last 3 months; mean daily kWh of
    the last actual reads) from the account's own valid/estimated total reads before `period`."""
    good = MeterRead.objects.filter(customer=customer, register="total", status__in=[ReadStatus.VALID,
                                                                                     ReadStatus.ESTIMATED],
                                    consumption_kwh__isnull=False)
    same = good.filter(period=period.replace(year=period.year - 1)).aggregate(k=Sum("consumption_kwh"))["k"]
    recent = list(good.filter(period__lt=period).order_by("-period", "-read_at")
                  .values_list("consumption_kwh", "read_at")[:4])
    expected = rules.expected_usage(same, [k for k, _ in reversed(recent[:3])])
    daily = None
    if len(recent) >= 2 and recent[0][1] > recent[-1][1]:
        days = (recent[0][1] - recent[-1][1]).days or 1
        daily = sum((k for k, _ in recent[:-1]), Decimal(0)) / days
    return expected, daily


def estimate_from_history(customer, period: dt.date, read_at: dt.datetime | None = None) -> Decimal:
    """估抄 from the account's history (rules.estimate_kwh): the seasonal month scaled to the days since the
    previous read, else the recent daily mean, else 0 — what a clerk gets when resolving without a figure."""
    expected, daily = _history(customer, period)
    prev = (MeterRead.objects.filter(customer=customer, register="total", period__lt=period)
            .exclude(status=ReadStatus.REJECTED).order_by("-read_at").first())
    if prev and read_at:
        days = max(1, (read_at - prev.read_at).days)
    else:
        days = calendar.monthrange(period.year, period.month)[1]
    return rules.estimate_kwh(days, expected, daily)


def _estimated_read_for_missed(exc, estimate_kwh):
    """A missed read resolved by estimation: an estimated total read for the period, previous + estimate."""
    from gridcare.grid.models import Meter as M

    meter = exc.meter or M.objects.filter(customer=exc.customer, removed_on__isnull=True).first()
    if meter is None:
        raise DomainError({"resolution": "客户没有在用电能表，无法估抄"})
    prev = (MeterRead.objects.filter(meter=meter, register="total").exclude(status=ReadStatus.REJECTED)
            .order_by("-read_at").first())
    at = timezone.now()
    kwh = _decimal_kwh(estimate_kwh) if estimate_kwh is not None else estimate_from_history(exc.customer, exc.period, at)
    value = (prev.value_kwh if prev else Decimal(0)) + kwh
    read = MeterRead.objects.create(customer=exc.customer, meter=meter, unit=exc.unit, read_at=at, period=exc.period,
                                    register="total", value_kwh=value, consumption_kwh=kwh, source=ReadSource.ESTIMATE,
                                    status=ReadStatus.ESTIMATED)
    exc.read = read
    exc.save()
    _estimate_tou(read, None, "漏抄按历史估算")
    return read


# ---------------------------------------------------------------------------------------------------
# Reading schedule (抄表计划) and missed reads


def add_months(d: dt.date, n: int) -> dt.date:
    m = d.month - 1 + n
    return dt.date(d.year + m // 12, m % 12 + 1, 1)


def reading_date(route, period: dt.date) -> dt.date | None:
    """The day a route reads the meters that close `period` (its reading day of the next month), or None
    when the route's cycle skips that month (cycle_months counts from January)."""
    if (period.month - 1) % route.cycle_months != route.cycle_months - 1 and route.cycle_months > 1:
        return None
    nxt = add_months(period, 1)
    return nxt.replace(day=min(route.reading_day, calendar.monthrange(nxt.year, nxt.month)[1]))


def schedule(routes, period: dt.date) -> list[dict]:
    """The reading plan of a period: each route with its reader, reading date and meters to read."""
    out = []
    for w in route_workload(routes):
        day = reading_date(w["route"], period)
        if day:
            out.append({"route": w["route"].code, "name": w["route"].name,
                        "reader": getattr(w["route"].reader, "username", None), "reading_date": day,
                        "meters": w["meters"]})
    return sorted(out, key=lambda r: (r["reading_date"], r["route"]))


def sweep_missed_reads(today: dt.date | None = None, batch: int = 20_000) -> dict:
    """Open a missed_read exception for every active account of a route whose reading date (plus the grace
    days of vee.yaml) has passed without a total read for the period. Set-based per route, at most `batch`
    new exceptions a sweep, never twice for the same account and period (safe to run twice)."""
    from gridcare.grid.models import Meter as M

    from .models import ReadingRoute

    today = today or timezone.localdate()
    grace = dt.timedelta(days=int(rules.config().missed_read_grace_days))
    period = add_months(today.replace(day=1), -1)
    created = 0
    for route in ReadingRoute.objects.prefetch_related("transformer_areas").order_by("code"):
        day = reading_date(route, period)
        if day is None or day + grace >= today:
            continue
        read = MeterRead.objects.filter(customer_id=OuterRef("customer_id"), period=period, register="total")
        known = ReadException.objects.filter(customer_id=OuterRef("customer_id"), period=period, rule="missed_read")
        meters = (M.objects.filter(transformer_area__in=route.transformer_areas.all(), removed_on__isnull=True,
                                   customer__isnull=False)
                  .exclude(customer__billing__status__in=["vacant", "closed", "disconnected"])
                  .filter(~Exists(read), ~Exists(known))
                  .values_list("id", "customer_id", "customer__unit_id").distinct()[:batch - created])
        new = [ReadException(customer_id=c, meter_id=m, unit_id=u, period=period, rule="missed_read",
                             message=f"抄表例日 {day:%m月%d日} 已过，本期未抄见示数（抄表段 {route.code}）")
               for m, c, u in meters]
        ReadException.objects.bulk_create(new, batch_size=2000)
        created += len(new)
        if created >= batch:
            break
    return {"missed_reads": created, "period": period.isoformat()}



def route_workload(routes) -> list[dict]:
    """Meters per route and reader (the studies: 4,000+ households a month per reader)."""
    from gridcare.grid.models import Meter as M

    out = []
    for r in routes:
        n = M.objects.filter(transformer_area__in=r.transformer_areas.all(), removed_on__isnull=True).count()
        out.append({"route": r, "meters": n})
    return out


# ---------------------------------------------------------------------------------------------------
# Interval data (AMI curves): findings of intervals.validate stored as exceptions


INTERVAL_RULES = ("gap", "duplicate", "negative", "spike", "bad_quality")


def _interval_message(flag: str, row: dict) -> str:
    day, points, total = row["day"], row["points"], row["total_kwh"]
    text = {"gap": f"{day} 曲线仅 {points} 点（应为 96 点）", "duplicate": f"{day} 曲线有 {points} 点（含重复时刻）",
            "negative": f"{day} 曲线出现负值", "spike": f"{day} 曲线出现尖峰（当日合计 {total:.2f} kWh）",
            "bad_quality": f"{day} 曲线含质量码异常的点"}
    return text[flag]


def do_store_interval_findings(rows, file_name: str = "", batch: int = 5000) -> dict:
    """One exception per (meter, day, finding), for meters GridCare knows; a finding already stored is not
    stored again (the same file may be validated twice). Audited in bulk (record_bulk, the file named)."""
    from gridcare.core.audit import record_bulk

    rows = list(rows)
    by_meter: dict[str, list] = {}
    for r in rows:
        by_meter.setdefault(r["meter_no"], []).append(r)
    known: dict[str, tuple] = {}
    nos = list(by_meter)
    for i in range(0, len(nos), batch):
        for m_id, no, c_id, u_id in (Meter.objects.filter(meter_no__in=nos[i:i + batch], customer__isnull=False)
                                     .values_list("id", "meter_no", "customer_id", "customer__unit_id")):
            known[no] = (m_id, c_id, u_id)
    days = {r["day"] for r in rows}
    existing = set(ReadException.objects.filter(rule__in=[f"interval_{f}" for f in INTERVAL_RULES], day__in=days,
                                                meter_id__in=[v[0] for v in known.values()])
                   .values_list("meter_id", "day", "rule"))
    new, seen = [], 0
    for no, items in by_meter.items():
        if no not in known:
            continue
        m_id, c_id, u_id = known[no]
        for r in items:
            for flag in INTERVAL_RULES:
                rule = f"interval_{flag}"
                if not r[flag]:
                    continue
                if (m_id, r["day"], rule) in existing:
                    seen += 1
                else:
                    new.append(ReadException(customer_id=c_id, meter_id=m_id, unit_id=u_id, day=r["day"], rule=rule,
                                             message=_interval_message(flag, r)[:300]))
    with transaction.atomic():
        ReadException.objects.bulk_create(new, batch_size=2000)
        record_bulk(new, "create", note=f"曲线数据校验 {file_name}".strip())
    return {"stored": len(new), "already_stored": seen,
            "unknown_meters": len([n for n in by_meter if n not in known])}
