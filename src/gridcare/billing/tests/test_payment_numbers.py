"""收费流水号 come from a locked counter (billing.NumberCounter), not from counting payments: concurrent payments
never share a number and never overwrite each other's balance; the prepaid settlement takes a block; a
counter lost with a flushed database restarts after the highest number used."""
import datetime as dt
import threading
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from gridcare.billing import services
from gridcare.billing.models import Bill, BillingAccount, NumberCounter, Payment

TZ = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2026, 8, 12, 10, tzinfo=TZ)


def seqs(qs):
    return sorted(int(no[9:]) for no in qs.values_list("payment_no", flat=True))


@pytest.mark.django_db(transaction=True)
def test_numbers_are_consecutive_and_the_prepaid_run_takes_a_block(world):
    pay = lambda cust, amount, ch="wechat": services.do_record_payment(   # noqa: E731
        world.admin, cust, {"amount": amount, "channel": ch, "paid_at": AT})
    first = pay(world.cust_a, "100.00")
    second = pay(world.cust_b, "20.00", "alipay")
    assert first.payment_no.startswith("P20260812") and int(second.payment_no[9:]) == int(first.payment_no[9:]) + 1
    # two prepaid accounts with bills: one settlement, one block of numbers right after
    for cust in (world.cust_a, world.cust_b):
        BillingAccount.objects.filter(customer=cust).update(prepaid=True)
        Bill.objects.create(bill_no=f"B-{cust.account_no}", customer=cust, unit=cust.unit, period=dt.date(2026, 7, 1),
                            period_start=dt.date(2026, 7, 1), period_end=dt.date(2026, 7, 31), tariff_code="EX-RES-TIERED",
                            kwh=D(10), amount=D("5.00"), status="issued", due_date=dt.date(2026, 8, 25), lines=[],
                            issued_at=AT)
    got = services.settle_prepaid(Bill.objects.all(), now=AT + dt.timedelta(hours=1))
    assert got["settled"] == 2
    assert seqs(Payment.objects.all()) == [int(first.payment_no[9:]) + k for k in range(4)]
    assert NumberCounter.objects.get(series="payment").last == int(first.payment_no[9:]) + 3
    assert BillingAccount.objects.get(customer=world.cust_a).balance == D("95.00")
    # the counter row lost (a flushed database): the next number follows the highest one used, no clash
    NumberCounter.objects.all().delete()
    third = pay(world.cust_a, "1.00", "app")
    assert int(third.payment_no[9:]) == int(first.payment_no[9:]) + 4


@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_get_distinct_numbers_and_keep_every_yuan(world):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them")
    services.account_for(world.cust_a)
    services.account_for(world.cust_b)
    errors, barrier = [], threading.Barrier(6)

    def worker(k):
        try:
            barrier.wait()
            for i in range(5):
                cust = world.cust_a if (k + i) % 2 else world.cust_b
                services.do_record_payment(world.admin, cust, {"amount": f"{k + 1}.{i:02d}", "channel": "wechat",
                                                               "reference": f"WX-{k}-{i}", "paid_at": AT})
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    nos = list(Payment.objects.values_list("payment_no", flat=True))
    assert len(nos) == 30 and len(set(nos)) == 30
    assert seqs(Payment.objects.all()) == list(range(min(seqs(Payment.objects.all())), min(seqs(Payment.objects.all())) + 30))
    # nothing owed: every yuan went to the balance, and no top-up overwrote another
    for cust in (world.cust_a, world.cust_b):
        paid = sum(Payment.objects.filter(customer=cust).values_list("amount", flat=True), D("0.00"))
        assert BillingAccount.objects.get(customer=cust).balance == paid > 0
