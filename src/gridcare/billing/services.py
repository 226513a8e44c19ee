"""Billing operations: tariffs, bill runs, corrections, payments, reminders, disconnection/reconnection,
e-invoice requests. Each `do_*` checks role capability and unit scope and writes the audit trail; checks
that may refuse (`check_*`) are separate so they can be tested alone."""
from __future__ import annotations

import calendar
import datetime as dt
import io
import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from gridcare.accounts.models import OrgUnit
from gridcare.accounts.permissions import require, scoped
from gridcare.core.api_support import Conflict, DomainError
from gridcare.core.audit import write_log
from gridcare.customers.models import Customer

from . import catalog
from .models import (CUSTOMER_CHANNELS, AccountStatus, Allocation, Bill, BillingAccount, BillRun, BillStatus, Channel,
                     CutStatus, Disconnection, InvoiceRequest, InvoiceStatus, NumberCounter, Payment, Reminder, RunStatus,
                     Tariff)
from .rules import (CutLimits, TariffError, check_payment_amount, compute_bill, cut_violations, fen, late_charge,
                    overlaps, parse_tariff, reconnect_state, tariff_to_dict, tier_kwh)

SETTINGS_FILE = Path(__file__).resolve().parent / "data" / "billing.yaml"
# Bill runs and corrections need billing.run; cuts and reconnections billing.disconnect (data/roles.yaml).
CAP_RUN = "billing.run"
CAP_DISCONNECT = "billing.disconnect"


@lru_cache(maxsize=1)
def settings_data() -> dict:
    return yaml.safe_load(SETTINGS_FILE.read_text(encoding="utf-8"))


def cut_limits() -> CutLimits:
    return CutLimits.from_yaml(catalog.arrears_limits())


def month_end(period: dt.date) -> dt.date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def due_date_for(period: dt.date) -> dt.date:
    return month_end(period) + dt.timedelta(days=int(settings_data()["due_days_after_period_end"]))


def _err(exc: TariffError) -> DomainError:
    return DomainError(exc.errors)


# ---------------------------------------------------------------------------------------------------
# Tariffs


def do_load_tariffs(tariffs, replace: bool = False) -> int:
    """Store parsed tariffs (formats.md); overlapping validity with what is stored (or within the file) is
    an error and nothing is written."""
    tariffs = list(tariffs)
    with transaction.atomic():
        existing = [t.as_rule() for t in Tariff.objects.filter(code__in={t.code for t in tariffs})]
        keys = {(t.code, t.valid_from) for t in tariffs}
        if replace:
            existing = [t for t in existing if (t.code, t.valid_from) not in keys]
        elif dup := [t for t in existing if (t.code, t.valid_from) in keys]:
            raise DomainError({"tariff": f"电价 {dup[0].code} 自 {dup[0].valid_from} 的版本已存在"})
        if problems := overlaps(existing + tariffs):
            raise DomainError({"valid_from": problems[0]})
        for t in tariffs:
            row = Tariff.objects.filter(code=t.code, valid_from=t.valid_from).first() or Tariff(code=t.code,
                                                                                             valid_from=t.valid_from)
            row.name, row.customer_class, row.province = t.name, t.customer_class, t.province
            row.valid_to, row.source, row.schedule = t.valid_to, t.source[:300], tariff_to_dict(t)
            row.save()
    return len(tariffs)


def ensure_shipped_tariffs() -> int:
    if Tariff.objects.exists():
        return 0
    return do_load_tariffs(catalog.shipped())


def export_tariffs(code: str | None = None) -> list[dict]:
    qs = Tariff.objects.all() if code is None else Tariff.objects.filter(code=code)
    return [row.schedule for row in qs]


# ---------------------------------------------------------------------------------------------------
# Accounts


def account_for(customer: Customer, lock: bool = False) -> BillingAccount:
    """The customer's billing account, created with the class's default tariff when missing; `lock` (inside
    a transaction) holds its row until commit so balance changes do not overwrite each other."""
    qs = BillingAccount.objects.filter(customer=customer)
    if lock:
        qs = qs.select_for_update()
    acc = qs.first()
    if acc is None:
        code = settings_data()["default_tariff"].get(customer.customer_class, "ZJ-RES-TIERED")
        try:
            with transaction.atomic():
                acc = BillingAccount.objects.create(customer=customer, tariff_code=code)
        except IntegrityError:  # created meanwhile by a concurrent request
            acc = qs.get()
    return acc


def owed_total(customer) -> Decimal:
    agg = Bill.objects.filter(customer=customer, status=BillStatus.ISSUED).aggregate(
        a=Sum("amount"), p=Sum("paid"))
    # a database SUM may carry more digits than the column (SQLite: 74567.0800000000): quantize to the fen
    return fen((agg["a"] or Decimal("0.00")) - (agg["p"] or Decimal("0.00")))


def customer_bills(customer, months: int | None = 12, unpaid: bool = False, today: dt.date | None = None) -> list[dict]:
    """A customer's bills, newest period first, as plain values (read-only; the hall's counter and the
    customer's self-service): period "YYYY-MM", kWh, amount, paid, owed (yuan, Decimal), status and its
    label, due date. `months`: the periods of the last N months, the current one included (None: all);
    `unpaid`: only bills still owed (status issued). Cancelled bills (replaced by a rebill) are left out."""
    qs = Bill.objects.filter(customer=customer).exclude(status=BillStatus.CANCELLED)
    if unpaid:
        qs = qs.filter(status=BillStatus.ISSUED)
    if months is not None:
        first = (today or timezone.localdate()).replace(day=1)
        y, m = divmod(first.year * 12 + first.month - 1 - (max(1, months) - 1), 12)
        qs = qs.filter(period__gte=dt.date(y, m + 1, 1))
    fields = ("bill_no", "period", "kwh", "amount", "paid", "status", "due_date", "estimated")
    return [{"bill_no": b.bill_no, "period": f"{b.period:%Y-%m}", "kwh": b.kwh, "amount": b.amount, "paid": b.paid,
             "owed": b.owed, "status": b.status, "status_label": b.get_status_display(), "due_date": b.due_date,
             "estimated": b.estimated}
            for b in qs.order_by("-period", "-id").only(*fields)]


# ---------------------------------------------------------------------------------------------------
# Bill runs (set-based, billing/runs.py: a few scans, pricing vectorised with Polars, one bulk write)


def create_run(user, unit: OrgUnit, period: dt.date) -> BillRun:
    require(user, CAP_RUN, unit)
    period = period.replace(day=1)
    if BillRun.objects.filter(unit=unit, period=period, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists():
        raise Conflict({"period": "该单位本账期已有批次在计算"})
    run = BillRun.objects.create(unit=unit, period=period, started_by=user)
    from .tasks import bill_run_task

    transaction.on_commit(lambda: bill_run_task.enqueue(run.pk))
    return run


def execute_run(run: BillRun, **kwargs) -> BillRun:
    from .runs import execute_run as run_set_based

    return run_set_based(run, **kwargs)


def do_cancel_bill(user, bill: Bill, reason: str) -> Bill:
    require(user, CAP_RUN, bill.unit)
    if not (reason or "").strip():
        raise DomainError({"reason": "作废账单须填写原因"})
    if bill.status == BillStatus.CANCELLED:
        raise Conflict({"status": "账单已作废"})
    if bill.paid > 0:
        raise Conflict({"status": "账单已有缴费，请先退费或以更正账单冲抵"})
    bill.status, bill.note = BillStatus.CANCELLED, f"作废：{reason}"[:300]
    bill.save()
    return bill


def do_rebill(user, bill: Bill, usage: dict, reason: str) -> Bill:
    """Cancel `bill` and issue a corrected one for the same period (e.g. the next actual read differs from
    an estimate); both steps are in the audit trail, the new bill points to the old one."""
    require(user, CAP_RUN, bill.unit)
    if not (reason or "").strip():
        raise DomainError({"reason": "更正账单须填写原因"})
    with transaction.atomic():
        bill = Bill.objects.select_for_update().get(pk=bill.pk)
        paid = bill.paid
        if bill.status == BillStatus.CANCELLED:
            raise Conflict({"status": "账单已作废"})
        versions = catalog.resolve(bill.tariff_code)
        ytd = (Bill.objects.filter(customer=bill.customer, period__year=bill.period.year, period__lt=bill.period)
               .exclude(status=BillStatus.CANCELLED).aggregate(k=Sum("kwh"))["k"] or Decimal(0))
        try:
            result = compute_bill(versions, bill.period_start, bill.period_end, usage, ytd)
        except TariffError as exc:
            raise _err(exc) from None
        bill.status, bill.note, bill.paid = BillStatus.CANCELLED, f"更正作废：{reason}"[:300], Decimal("0.00")
        bill.save()
        n = Bill.objects.filter(rebill_of__isnull=False, customer=bill.customer, period=bill.period).count() + 1
        new = Bill.objects.create(
            bill_no=f"{bill.bill_no.split('-R')[0]}-R{n}", customer=bill.customer, unit=bill.unit, period=bill.period,
            period_start=bill.period_start, period_end=bill.period_end, tariff_code=bill.tariff_code,
            kwh=result.total_kwh, amount=result.total, due_date=bill.due_date,
            lines=[line.as_json() for line in result.lines], rebill_of=bill, paid=min(paid, result.total),
            note=f"更正：{reason}"[:300], issued_at=timezone.now())
        if paid > result.total:  # overpaid by the correction: the difference goes to the prepaid balance
            acc = account_for(bill.customer)
            acc.balance += paid - result.total
            _rearm(acc)
            acc.save()
        if new.paid >= new.amount:
            new.status = BillStatus.PAID
            new.save()
        else:
            settle_prepaid(Bill.objects.filter(pk=new.pk), customer_ids=[new.customer_id])
    return new


# ---------------------------------------------------------------------------------------------------
# Payments


def _highest_payment_seq() -> int:
    """The highest sequence in P<yyyymmdd><8 digits> (fixed width: the greatest tail is the greatest number)."""
    tail = Payment.objects.aggregate(m=Max(Substr("payment_no", 10)))["m"]
    return int(tail) if tail and tail.isdigit() else 0


def take_numbers(series: str, n: int = 1) -> int:
    """Reserve `n` consecutive numbers of a series and return the first. The counter row stays locked until
    the caller's transaction ends, so concurrent payments never share a 流水号 (a rolled-back transaction
    gives its numbers back). A missing row (a flushed test database) restarts after the highest number used."""
    with transaction.atomic():
        qs = NumberCounter.objects.filter(series=series)
        if not qs.update(last=F("last") + n):
            try:
                with transaction.atomic():
                    NumberCounter.objects.create(series=series, last=_highest_payment_seq() + n)
            except IntegrityError:
                qs.update(last=F("last") + n)
        return qs.values_list("last", flat=True).get() - n + 1


def last_number(series: str) -> int:
    """The last number handed out (for bulk loaders that number their own rows, then call advance_numbers)."""
    return take_numbers(series, 0) - 1


def advance_numbers(series: str, last: int) -> None:
    """Move the counter past numbers a bulk loader (the demo) wrote itself; never moves it back."""
    NumberCounter.objects.filter(series=series, last__lt=last).update(last=last)


def payment_no(paid_at: dt.datetime, seq: int) -> str:
    return f"P{timezone.localtime(paid_at):%Y%m%d}{seq:08d}"


def check_payment(data: dict) -> tuple[Decimal, str]:
    try:
        amount = check_payment_amount(data.get("amount"), data.get("currency") or "CNY")
    except TariffError as exc:
        raise _err(exc) from None
    if data.get("channel") not in CUSTOMER_CHANNELS:
        raise DomainError({"channel": "缴费渠道应为 " + "、".join(f"{c}({l})" for c, l in Channel.choices
                                                                if c in CUSTOMER_CHANNELS)})
    return amount, data["channel"]


def do_record_payment(user, customer: Customer, data: dict) -> Payment:
    """Record a payment and allocate it to the oldest debt first (each bill's 违约金, then its principal);
    what is left goes to the prepaid balance. Paying off a cut-off customer starts the reconnection clock."""
    require(user, "billing.collect", customer.unit)
    amount, channel = check_payment(data)
    paid_at = data.get("paid_at") or timezone.now()
    ref = (data.get("reference") or "").strip()
    with transaction.atomic():
        # one payment of a customer at a time: its bills and its balance are read and written below
        acc = account_for(customer, lock=True)
        if ref and Payment.objects.filter(channel=channel, reference=ref).exists():
            raise Conflict({"reference": f"渠道交易号 {ref} 已入账（重复缴费通知）"})
        payment = Payment.objects.create(
            payment_no=payment_no(paid_at, take_numbers("payment")), customer=customer, unit=customer.unit,
            channel=channel, amount=amount, paid_at=paid_at, reference=ref,
            received_by=user if getattr(user, "pk", None) else None)
        left = amount
        rules = catalog.late_rules()
        paid_day = timezone.localtime(paid_at).date()
        for bill in (Bill.objects.select_for_update().filter(customer=customer, status=BillStatus.ISSUED)
                     .order_by("due_date", "period", "id")):
            if left <= 0:
                break
            owed = bill.amount - bill.paid
            charge = late_charge(owed, bill.due_date, paid_day, customer.customer_class, rules)
            fee = charge.amount if charge else Decimal("0.00")
            fee_part = min(fee, left)
            left -= fee_part
            principal = min(owed, left)
            left -= principal
            Allocation.objects.create(payment=payment, bill=bill, amount=principal, late_charge=fee_part)
            bill.paid += principal
            bill.late_paid += fee_part
            if bill.paid >= bill.amount:
                bill.status = BillStatus.PAID
            bill.save()
        if left > 0:
            acc.balance += left
            _rearm(acc)
            acc.save()
            payment.to_balance = left
            payment.save()
        if owed_total(customer) <= 0:
            _debt_cleared(customer, paid_at)
    return payment


def _debt_cleared(customer, paid_at):
    limits = cut_limits()
    for case in Disconnection.objects.filter(customer=customer, status__in=[CutStatus.NOTICE, CutStatus.CUT]):
        if case.status == CutStatus.NOTICE:
            case.status = CutStatus.CANCELLED
        else:
            case.status, case.paid_at = CutStatus.PAID, paid_at
            case.reconnect_due_at = paid_at + limits.reconnect
            from gridcare.notifications.services import notify
            from gridcare.accounts.models import User

            from gridcare.accounts.permissions import scope_path

            users = [u for u in User.objects.filter(role="dispatcher", is_active=True).select_related("unit__parent")
                     if customer.unit.path.startswith(scope_path(u) or "~")]
            transaction.on_commit(lambda c=case, u=users: notify(
                u, "reconnect_due", f"客户 {c.customer.account_no} 已缴清欠费，请于 "
                f"{timezone.localtime(c.reconnect_due_at):%m-%d %H:%M} 前复电", url="/billing/arrears/",
                dedupe=f"reconnect:{c.pk}"))
        case.save()


def low_balance_text(account_no: str, balance: Decimal, threshold: Decimal) -> str:
    return (f"【国网】尊敬的客户{account_no}，您的预付费电费余额为{balance}元，已低于预警线{threshold}元，"
            f"请及时充值，以免影响正常用电。")


def settle_prepaid(bills, now: dt.datetime | None = None, customer_ids=None) -> dict:
    """Prepaid (费控) accounts pay their bills from the balance when the bill is issued: for each unpaid bill
    in `bills` (a Bill queryset: a run's bills, or one rebill) of a prepaid account with a positive
    balance, a Payment on the `prepaid` channel (reference `PREPAID-<bill no>`, so a bill is never settled
    twice) allocated to the bill; what the balance cannot cover stays owed. Crossing below the account's
    threshold sends one low-balance alert (SMS/WeChat through notifications.delivery) and stamps
    `low_balance_alerted_at` (the OutboundEvent, source billing.account, is the record of the alert); a top-up
    above the threshold re-arms it (`_rearm`). Set-based: one query
    for the accounts, one for their bills, bulk writes, audited with record_bulk."""
    from gridcare.core.audit import record_bulk
    from gridcare.notifications.delivery import queue_event

    now = now or timezone.now()
    with transaction.atomic():
        # the accounts stay locked until commit: a payment at the counter meanwhile waits (do_record_payment
        # locks the account first too) instead of writing a balance this settlement then overwrites
        accounts = BillingAccount.objects.filter(prepaid=True, balance__gt=0)
        if customer_ids is not None:  # one rebill: only its customer's account
            accounts = accounts.filter(customer_id__in=list(customer_ids))
        accounts = {a.customer_id: a for a in accounts.select_related("customer").select_for_update(of=("self",))
                    .order_by("id")}
        if not accounts:
            return {"settled": 0, "amount": Decimal("0.00"), "alerts": 0}
        todo = []
        ids = list(accounts)
        for i in range(0, len(ids), 5000):
            todo += list(bills.filter(customer_id__in=ids[i:i + 5000], status=BillStatus.ISSUED).order_by("due_date", "id"))
        payments, allocs, paid_bills, touched, alerts = [], [], [], {}, []
        for bill in todo:
            acc = accounts[bill.customer_id]
            take = min(acc.balance, bill.amount - bill.paid)
            if take <= 0:
                continue
            payments.append(Payment(customer_id=bill.customer_id, unit_id=bill.unit_id,
                                    channel=Channel.PREPAID, amount=take, paid_at=now,
                                    reference=f"PREPAID-{bill.bill_no}"[:64]))
            allocs.append((bill, take))
            bill.paid += take
            if bill.paid >= bill.amount:
                bill.status = BillStatus.PAID
            paid_bills.append(bill)
            acc.balance -= take
            touched[acc.pk] = acc
        for acc in touched.values():
            if acc.balance < acc.low_balance_yuan and acc.low_balance_alerted_at is None:
                acc.low_balance_alerted_at = now
                alerts.append(acc)
        if payments:
            first = take_numbers("payment", len(payments))
            for k, p in enumerate(payments):
                p.payment_no = payment_no(now, first + k)
        Payment.objects.bulk_create(payments, batch_size=2000)
        by_bill = {p.reference: p for p in payments}
        Allocation.objects.bulk_create([Allocation(payment=by_bill[f"PREPAID-{b.bill_no}"[:64]], bill=b, amount=take)
                                        for b, take in allocs], batch_size=2000)
        # executemany, not bulk_update: its CASE over a thousand ids a statement is quadratic on SQLite
        with connection.cursor() as cur:
            cur.executemany(f"UPDATE {Bill._meta.db_table} SET paid = %s, status = %s WHERE id = %s",
                            [(str(b.paid), b.status, b.pk) for b in paid_bills])
            cur.executemany(f"UPDATE {BillingAccount._meta.db_table} SET balance = %s, low_balance_alerted_at = %s "
                            f"WHERE id = %s", [(str(a.balance), connection.ops.adapt_datetimefield_value(a.low_balance_alerted_at), a.pk)
                             for a in touched.values()])
        record_bulk(payments, "create", note="预付费（费控）账户出账时以预存余额抵扣电费")
        record_bulk(list(touched.values()), "update", note="出账抵扣，预存余额减少（见 prepaid 渠道缴费流水）")
        last_payment = {p.customer_id: p for p in payments}
        for acc in alerts:
            key = f"billing-low-balance:{last_payment[acc.customer_id].payment_no}"
            queue_event(key, "billing_low_balance",
                        low_balance_text(acc.customer.account_no, acc.balance, acc.low_balance_yuan),
                        Customer.objects.filter(pk=acc.customer_id), subject="预付费余额不足提醒",
                        source_type="billing.account", source_id=str(acc.pk), kick=False)
        if alerts:
            from gridcare.notifications.delivery import kick_workers

            kick_workers()
    return {"settled": len(payments), "amount": sum((p.amount for p in payments), Decimal("0.00")),
            "alerts": len(alerts)}


def _rearm(acc: BillingAccount) -> None:
    """A top-up lifted the balance back over the threshold: the next crossing alerts again."""
    if acc.low_balance_alerted_at is not None and acc.balance >= acc.low_balance_yuan:
        acc.low_balance_alerted_at = None


def channel_mix(user, since: dt.datetime | None = None) -> list[dict]:
    qs = scoped(Payment.objects.exclude(channel=Channel.PREPAID), user)  # a deduction is not a way of paying
    if since:
        qs = qs.filter(paid_at__gte=since)
    rows = {r["channel"]: r for r in qs.values("channel").annotate(n=Count("id"), amount=Sum("amount"))}
    total = sum(r["n"] for r in rows.values()) or 1
    return [{"channel": c, "label": label, "count": rows.get(c, {}).get("n", 0),
             "amount": str(rows.get(c, {}).get("amount") or Decimal("0.00")),
             "share": round(rows.get(c, {}).get("n", 0) / total, 4)} for c, label in Channel.choices
            if c in CUSTOMER_CHANNELS]


# ---------------------------------------------------------------------------------------------------
# Reminders (催费)


def reminder_plans(today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """(kind, first due date, last due date) of the bills each reminder kind is for today: a reminder's day
    is the due date − before_due_days (before) or + each of after_due_days (after); a sweep that missed
    its day (the server was down, the batch ran out) catches up for `catch_up_days`, never after the
    next kind's day, so a customer never gets a stale reminder."""
    cfg = settings_data()["reminders"]
    catch_up = int(cfg.get("catch_up_days", 3))
    before = int(cfg["before_due_days"])
    afters = sorted(int(d) for d in cfg["after_due_days"])
    # before_due: today ∈ [due − before, due − before + catch_up) and still not due (due ≥ today)
    plans = [("before_due", max(today, today + dt.timedelta(days=before - catch_up + 1)),
              today + dt.timedelta(days=before))]
    for i, d in enumerate(afters):
        span = min(catch_up, afters[i + 1] - d) if i + 1 < len(afters) else catch_up
        plans.append((f"after_due_{d}", today - dt.timedelta(days=d + span - 1), today - dt.timedelta(days=d)))
    return plans


def reminder_text(kind: str, account_no: str, period: dt.date, owed: Decimal, due: dt.date) -> str:
    head = f"【国网】尊敬的客户{account_no}，您{period:%Y年%m月}电费{owed}元"
    if kind == "before_due":
        return head + f"将于{due:%m月%d日}到期，请及时缴纳。"
    return head + f"已于{due:%m月%d日}到期，逾期将按规定收取电费违约金，请尽快缴纳。"


def send_reminders(today: dt.date | None = None, batch: int = 2000) -> dict:
    """Before/after the due date, by SMS, WeChat or e-mail per the customer's preferences, through the
    exactly-once delivery layer (notifications.delivery.queue_event): one event per (bill, kind), keyed
    `billing-reminder:<bill id>:<kind>`, and a Reminder row linking the bill to it. At most `batch`
    bills a call; {"more": True} when bills are left (the task enqueues itself again). Safe to run twice:
    a bill with a Reminder of that kind is skipped, and the event key is unique."""
    from django.db.models import Exists, OuterRef

    from gridcare.notifications.delivery import kick_workers, queue_event
    from gridcare.notifications.models import Delivery

    today = today or timezone.localdate()
    # the (unit, status, due_date) index serves this: every unit, one range each (no full scan of the bills)
    units = list(OrgUnit.objects.values_list("pk", flat=True))
    sent = unreachable = 0
    left = batch
    for kind, due_from, due_to in reminder_plans(today):
        if left <= 0 or due_from > due_to:
            continue
        done = Reminder.objects.filter(bill_id=OuterRef("pk"), kind=kind)
        bills = list(Bill.objects.filter(unit_id__in=units, status=BillStatus.ISSUED, due_date__gte=due_from,
                                         due_date__lte=due_to).filter(~Exists(done))
                     .select_related("customer").order_by("due_date", "id")[:left])
        left -= len(bills)
        now = timezone.now()
        for i in range(0, len(bills), 500):
            chunk = bills[i:i + 500]
            with transaction.atomic():
                rows = []
                for bill in chunk:
                    c = bill.customer
                    text = reminder_text(kind, c.account_no, bill.period, bill.amount - bill.paid, bill.due_date)
                    out = queue_event(f"billing-reminder:{bill.pk}:{kind}", "billing_reminder", text,
                                      Customer.objects.filter(pk=c.pk), subject="电费缴费提醒",
                                      source_type="billing.bill", source_id=str(bill.pk), kick=False)
                    rows.append(Reminder(bill=bill, kind=kind, channel="", text=text[:300], sent_at=now,
                                         event=out["event"]))
                chosen = dict(Delivery.objects.filter(event_id__in=[r.event.pk for r in rows])
                              .values_list("event_id", "channel"))
                for r in rows:
                    r.channel = chosen.get(r.event.pk, "none")
                    unreachable += r.channel == "none"
                Reminder.objects.bulk_create(rows, ignore_conflicts=True)
                sent += len(rows)
                kick_workers()
    return {"reminders": sent, "unreachable": unreachable, "more": left <= 0}


def reminders_of(bill: Bill) -> list[dict]:
    """What was sent for a bill and how its delivery went (bill page and API)."""
    from gridcare.notifications.models import Delivery

    rows = list(bill.reminders.order_by("sent_at", "id"))
    status = {d.event_id: d for d in Delivery.objects.filter(event_id__in=[r.event_id for r in rows if r.event_id])}
    out = []
    for r in rows:
        d = status.get(r.event_id)
        out.append({"kind": r.kind, "kind_label": r.kind_label, "channel": r.channel, "text": r.text,
                    "sent_at": r.sent_at, "delivery_status": d.status if d else None,
                    "delivery_status_label": d.get_status_display() if d else "",
                    "delivered_at": d.sent_at if d else None, "address": d.address if d else ""})
    return out


# ---------------------------------------------------------------------------------------------------
# Disconnection and reconnection


def do_issue_notice(user, customer: Customer, delivered_at: dt.datetime, planned_cut_at: dt.datetime,
                    method: str = "书面送达") -> Disconnection:
    require(user, CAP_DISCONNECT, customer.unit)
    owed = owed_total(customer)
    overdue = Bill.objects.filter(customer=customer, status=BillStatus.ISSUED,
                                  due_date__lt=timezone.localtime(delivered_at).date()).exists()
    if owed <= 0 or not overdue:
        raise DomainError({"customer": "客户没有逾期欠费，不能发出停电通知"})
    limits = cut_limits()
    ahead = planned_cut_at - delivered_at
    if not (limits.notice_min <= ahead <= limits.notice_max):
        raise DomainError({"planned_cut_at": f"计划停电时间须在通知送达后{limits.notice_min.days}～{limits.notice_max.days}天内"})
    if Disconnection.objects.filter(customer=customer, status__in=[CutStatus.NOTICE, CutStatus.CUT]).exists():
        raise Conflict({"customer": "该客户已有进行中的停电流程"})
    return Disconnection.objects.create(customer=customer, unit=customer.unit, owed=owed,
                                        notice_delivered_at=delivered_at, planned_cut_at=planned_cut_at,
                                        notice_method=method[:40], created_by=user)


def do_second_notice(user, case: Disconnection, at: dt.datetime) -> Disconnection:
    require(user, CAP_DISCONNECT, case.unit)
    if case.status != CutStatus.NOTICE:
        raise Conflict({"status": "只有待停电的流程可以再次通知"})
    case.second_notice_at = at
    case.save()
    return case


def do_report_authority(user, case: Disconnection, at: dt.datetime, ref: str) -> Disconnection:
    require(user, CAP_DISCONNECT, case.unit)
    if not (ref or "").strip():
        raise DomainError({"authority_ref": "须填写报告电力管理部门的文号或回执"})
    case.authority_reported_at, case.authority_ref = at, ref.strip()[:100]
    case.save()
    return case


def check_cut(case: Disconnection, at: dt.datetime) -> list[str]:
    return cut_violations(at, owed=owed_total(case.customer), notice_delivered_at=case.notice_delivered_at,
                          second_notice_at=case.second_notice_at, critical=case.customer.critical,
                          authority_reported_at=case.authority_reported_at, limits=cut_limits())


def do_cut(user, case: Disconnection, at: dt.datetime) -> Disconnection:
    """Record the cut — refused (409, every reason listed) when it would violate the notice rules."""
    require(user, CAP_DISCONNECT, case.unit)
    if case.status != CutStatus.NOTICE:
        raise Conflict({"status": f"当前状态“{case.get_status_display()}”不能停电"})
    if problems := check_cut(case, at):
        raise Conflict({"cut_at": "；".join(problems)})
    case.status, case.cut_at = CutStatus.CUT, at
    case.save()
    acc = account_for(case.customer)
    acc.status = AccountStatus.DISCONNECTED
    acc.save()
    return case


def do_reconnect(user, case: Disconnection, at: dt.datetime) -> Disconnection:
    require(user, CAP_DISCONNECT, case.unit)
    if case.status != CutStatus.PAID:
        raise Conflict({"status": "客户欠费未缴清或未停电，不需复电"})
    state = reconnect_state(case.paid_at, at, at, cut_limits())
    case.status, case.reconnected_at, case.complaint_risk = CutStatus.RECONNECTED, at, state["late"]
    case.save()
    acc = account_for(case.customer)
    acc.status = AccountStatus.ACTIVE
    acc.save()
    return case


def sweep_reconnections(now=None, batch: int = 5000) -> dict:
    """Flag reconnections past their limit as complaint risk (one indexed range scan on reconnect_due_at)."""
    now = now or timezone.now()
    ids = list(Disconnection.objects.filter(status=CutStatus.PAID, reconnect_due_at__lt=now, complaint_risk=False)
               .values_list("pk", flat=True)[:batch])
    Disconnection.objects.filter(pk__in=ids).update(complaint_risk=True)
    return {"late_reconnections": len(ids)}


def board(user, now=None) -> dict:
    """The arrears and disconnection board: cases by state with the reconnection clock."""
    now = now or timezone.now()
    limits = cut_limits()
    cases = list(scoped(Disconnection.objects.select_related("customer"), user)
                 .exclude(status__in=[CutStatus.CANCELLED]).order_by("reconnect_due_at", "planned_cut_at")[:300])
    for c in cases:
        c.clock = reconnect_state(c.paid_at, now, c.reconnected_at, limits) if c.paid_at else None
        c.blockers = check_cut(c, c.planned_cut_at) if c.status == CutStatus.NOTICE else []
    arrears = (scoped(Bill.objects.filter(status=BillStatus.ISSUED, due_date__lt=timezone.localdate()), user)
               .values("customer_id", "customer__account_no", "customer__name", "customer__critical")
               .annotate(owed=Sum(F("amount") - F("paid"))).order_by("-owed")[:100])
    return {"cases": cases, "arrears": list(arrears), "now": now}


# ---------------------------------------------------------------------------------------------------
# E-invoices


def do_request_invoice(user, customer: Customer, bill: Bill | None = None, payment: Payment | None = None,
                       overrides: dict | None = None) -> InvoiceRequest:
    """Prefill from the customer's InvoiceDetail (the hall's 开票信息); queued for the e-invoice platform."""
    require(user, "billing.collect", customer.unit)
    if (bill is None) == (payment is None):
        raise DomainError({"bill": "请选择一张账单或一笔缴费"})
    src = bill or payment
    if src.customer_id != customer.pk:
        raise DomainError({"bill": "账单/缴费不属于该客户"})
    detail = getattr(customer, "invoice", None)
    data = {"title": (detail.title if detail and detail.title else customer.name),
            "tax_id": detail.tax_id if detail else "",
            "address_phone": detail.address_phone if detail else "",
            "bank": " ".join(x for x in ((detail.bank_name, detail.bank_account) if detail else ()) if x),
            "email": (detail.invoice_email if detail else "") or customer.email,
            "phone": (detail.invoice_phone if detail else "") or customer.phone}
    data.update({k: v for k, v in (overrides or {}).items() if k in data and v is not None})
    if not data["email"] and not data["phone"]:
        raise DomainError({"email": "须有收票邮箱或手机"})
    return InvoiceRequest.objects.create(customer=customer, unit=customer.unit, bill=bill, payment=payment,
                                         amount=bill.amount if bill else payment.amount, requested_by=user, **data)


EXPORT_COLUMNS = ("request_id", "buyer_name", "buyer_tax_id", "buyer_address_phone", "buyer_bank_account",
                  "item_name", "tax_category_code", "amount_incl_tax", "tax_rate", "recipient_email",
                  "recipient_phone", "source_no")


def export_invoices(user, limit: int = 5000) -> str:
    """Queued requests as CSV for an e-invoice platform's batch import (columns: EXPORT_COLUMNS, see
    docs/billing.md); they become `exported`."""
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(EXPORT_COLUMNS)
    with transaction.atomic():
        reqs = list(scoped(InvoiceRequest.objects.filter(status=InvoiceStatus.QUEUED), user)
                    .select_related("bill", "payment").order_by("id")[:limit])
        for r in reqs:
            w.writerow([r.pk, r.title, r.tax_id, r.address_phone, r.bank, "*供电*电费", "1100101000000000000",
                        r.amount, "0.13", r.email, r.phone, r.bill.bill_no if r.bill_id else r.payment.payment_no])
            r.status, r.exported_at = InvoiceStatus.EXPORTED, timezone.now()
            r.save()
    return buf.getvalue()
