"""Demo metering and billing (steps 60, 70): a year of reads with findings from the real VEE rules, bills
from the real bill run, payments allocated, arrears and lawful disconnection cases. One small utility
(1,500 customers) is built once for the module and rolled back at the end."""
import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count, Sum

from gridcare.billing import catalog
from gridcare.billing.models import Allocation, Bill, BillingAccount, BillRun, Disconnection, Payment
from gridcare.billing.rules import compute_bill
from gridcare.billing.services import check_cut, cut_limits
from gridcare.core import demo
from gridcare.core.audit import audit_context
from gridcare.metering.models import MeterRead, ReadException

CUSTOMERS = 1500
TODAY = dt.datetime(2026, 11, 20, 10, tzinfo=demo.TZ)


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        ctx = demo.DemoContext(seed=11, customers=CUSTOMERS, today=TODAY, log=lambda m: None)
        with audit_context(None, "demo"):
            demo.run(ctx, {"org", "grid", "customers", "metering", "billing"})
        yield ctx
        transaction.set_rollback(True)


def test_a_year_of_reads_with_realistic_findings(built, db):
    periods = sorted(MeterRead.objects.values_list("period", flat=True).distinct())
    assert periods[0] == dt.date(2025, 10, 1) and periods[-1] == dt.date(2026, 10, 1) and len(periods) == 13
    totals = MeterRead.objects.filter(register="total").exclude(period=periods[0])
    n = totals.count()
    assert n >= CUSTOMERS * 12 * 0.97
    by_source = Counter(totals.values_list("source", flat=True))
    assert 0.005 < by_source["estimate"] / n < 0.06 and by_source["ami"] > by_source["manual"]
    rules = Counter(ReadException.objects.values_list("rule", flat=True))
    for rule in ("missed_read", "lower_than_previous", "high_usage"):
        assert rules[rule] > 0, rules
    # open findings only in the last read month; earlier ones resolved with a reason by someone
    assert set(ReadException.objects.filter(status="open").values_list("period", flat=True)) == {periods[-1]}
    resolved = ReadException.objects.filter(status="resolved")
    assert resolved.exists() and not resolved.filter(reason="").exists()
    assert not resolved.filter(resolved_by__isnull=True).exists()
    # an open finding holds its read; a re-read finding was replaced by a corrected valid read
    assert not ReadException.objects.filter(status="open", read__isnull=False).exclude(read__status="exception").exists()
    fixed = ReadException.objects.filter(resolution="reread").select_related("read").first()
    assert fixed.read.status == "rejected"
    assert MeterRead.objects.filter(meter=fixed.read.meter, period=fixed.period, register="total",
                                    status="valid").exists()
    # TOU meters have registers, and a total; totals of consecutive valid reads never go backwards
    assert MeterRead.objects.filter(register="peak").exists() and MeterRead.objects.filter(register="sharp").exists()
    assert not MeterRead.objects.filter(status="valid", register="total", consumption_kwh__lt=0).exists()


def test_bills_are_the_bill_runs_own_and_price_by_the_rules(built, db):
    runs = list(BillRun.objects.order_by("period"))
    from gridcare.billing.demo import BILL_MONTHS

    year_of_periods = [dt.date(2025, 11, 1), dt.date(2025, 12, 1)] + [dt.date(2026, m, 1) for m in range(1, 11)]
    assert [r.period for r in runs] == year_of_periods[-BILL_MONTHS:]
    assert all(r.status == "done" and r.audit_entries().exists() for r in runs)
    last = runs[-1]
    held = ReadException.objects.filter(status="open").values("customer").distinct().count()
    assert last.held == held > 0
    assert Bill.objects.filter(run=last).count() == last.bills == BillingAccount.objects.exclude(status="closed").count() - held
    for bill in Bill.objects.filter(period=dt.date(2026, 10, 1)).order_by("id")[:80]:
        regs = {}
        for r, kwh in (MeterRead.objects.filter(customer=bill.customer, period=bill.period,
                                                status__in=["valid", "estimated"])
                       .values_list("register").annotate(k=Sum("consumption_kwh"))):
            regs[r] = kwh
        versions = catalog.resolve(bill.tariff_code)
        use = {k: v for k, v in regs.items() if k != "total"} if versions[-1].tou else {"total": regs["total"]}
        # annual tiers count the calendar year's usage before this period
        ytd = (Bill.objects.filter(customer=bill.customer, period__lt=bill.period,
                                   period__gte=bill.period.replace(month=1)).exclude(status="cancelled")
               .aggregate(k=Sum("kwh"))["k"] or Decimal(0))
        res = compute_bill(versions, bill.period_start, bill.period_end, use, ytd)
        assert (bill.kwh, bill.amount) == (res.total_kwh, res.total), bill.bill_no


def test_payments_channels_arrears_and_lawful_cases(built, db):
    mix = Counter(Payment.objects.values_list("channel", flat=True))
    assert set(mix) == {"counter", "terminal", "bank", "alipay", "wechat", "unionpay", "app", "prepaid"}
    assert mix["counter"] / sum(mix.values()) < 0.15  # after individual payments moved online
    # every paid bill is covered by its allocations; payments equal what they allocate
    for bill in Bill.objects.filter(status="paid", amount__gt=0).order_by("id")[:200]:
        agg = bill.allocations.aggregate(a=Sum("amount"), f=Sum("late_charge"))
        assert (agg["a"], agg["f"]) == (bill.amount, bill.late_paid)
    for p in Payment.objects.annotate(n=Count("allocations")).order_by("id")[:200]:
        agg = Allocation.objects.filter(payment=p).aggregate(a=Sum("amount"), f=Sum("late_charge"))
        assert p.amount == (agg["a"] or 0) + (agg["f"] or 0) + p.to_balance
    assert Bill.objects.filter(late_paid__gt=0).exists()
    overdue = Bill.objects.filter(status="issued", due_date__lt=TODAY.date()).values("customer").distinct().count()
    assert 0.01 < overdue / CUSTOMERS < 0.12
    cases = Counter(Disconnection.objects.values_list("status", flat=True))
    assert cases["cut"] and cases["notice"] and cases["reconnected"]
    limits = cut_limits()
    for case in Disconnection.objects.filter(status__in=["cut", "reconnected"]).select_related("customer"):
        ahead = case.cut_at - case.notice_delivered_at
        assert limits.notice_min <= ahead <= limits.notice_max
        assert case.cut_at - case.second_notice_at >= limits.second_notice
        assert not case.customer.critical or case.authority_reported_at
    for case in Disconnection.objects.filter(status="cut").select_related("customer"):
        assert check_cut(case, case.cut_at) == [] or check_cut(case, case.cut_at) == ["客户已无欠费，不得停电"]
        assert case.customer.billing.status == "disconnected"
    for case in Disconnection.objects.filter(status="reconnected"):
        assert case.complaint_risk == (case.reconnected_at > case.reconnect_due_at)


def test_rebills_prepaid_deductions_reminders_and_invoices(built, db):
    from gridcare.billing.models import InvoiceRequest, Reminder
    from gridcare.notifications.models import Delivery, OutboundEvent

    # automatic rebills: an estimated bill cancelled and corrected after the next actual read
    rebills = Bill.objects.filter(rebill_of__isnull=False).select_related("rebill_of")
    assert rebills.exists()
    for new in rebills[:20]:
        old = new.rebill_of
        assert old.estimated and old.status == "cancelled" and not new.estimated and new.kwh != old.kwh
        assert new.period == old.period and "插值" in new.note and old.audit_entries().exists()
    # prepaid accounts: bills paid from the balance at issue, alerts through the delivery layer, top-ups
    deductions = Payment.objects.filter(channel="prepaid")
    assert deductions.exists() and not deductions.filter(customer__billing__prepaid=False).exists()
    for p in deductions[:50]:
        a = p.allocations.get()
        assert a.amount == p.amount and p.paid_at == a.bill.issued_at and p.reference == f"PREPAID-{a.bill.bill_no}"
    alerts = OutboundEvent.objects.filter(kind="billing_low_balance")
    assert alerts.exists() and not Delivery.objects.filter(status__in=["pending", "sending"]).exists()
    for e in alerts[:20]:
        assert e.created_at == Payment.objects.get(payment_no=e.key.split(":")[1]).paid_at < TODAY
    assert Payment.objects.filter(customer__billing__prepaid=True, to_balance__gt=0).exclude(channel="prepaid").exists()
    assert not BillingAccount.objects.filter(balance__lt=0).exists()
    # reminders: one event and delivery per (bill, kind), sent or unreachable; none for a bill paid before
    kinds = Counter(Reminder.objects.values_list("kind", flat=True))
    assert kinds["before_due"] and kinds["after_due_1"] and kinds["after_due_10"]
    for r in Reminder.objects.select_related("bill", "event")[:100]:
        assert r.event.key == f"billing-reminder:{r.bill_id}:{r.kind}" and r.event.body == r.text
        d = Delivery.objects.get(event=r.event)
        assert d.customer_id == r.bill.customer_id and d.channel == r.channel
        assert d.status == ("unreachable" if r.channel == "none" else "sent")
        paid = r.bill.allocations.exclude(payment__channel="prepaid").order_by("payment__paid_at").first()
        assert paid is None or paid.payment.paid_at > r.sent_at
    # e-invoice requests in every status, prefilled from the customers' invoice details
    statuses = Counter(InvoiceRequest.objects.values_list("status", flat=True))
    assert set(statuses) == {"queued", "exported", "issued", "failed"}
    assert not InvoiceRequest.objects.filter(status="issued", invoice_no="").exists()
    assert not InvoiceRequest.objects.exclude(status="queued").filter(exported_at__isnull=True).exists()
