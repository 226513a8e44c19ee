"""Demo billing (step 70): tariffs, billing accounts, the last BILL_MONTHS months of bills made by the real
bill run from the metering step's reads, payments by channel, arrears, disconnection cases and
reconnections.

A year of bills, as the issue asks: with a year of reads (1.3M rows for 50,000 customers) the bills,
payments and allocations add about 1.8M rows — about 12 s a third of a year on a quiet 2-core machine,
which `make demo`'s budget allows. Annual tiers count the calendar year's usage from earlier bills.

Shape (a choice, documented because someone will ask): customers pay between the bill day (the 10th) and
the due date (the 25th of the next month), weighted to the study's payment peak (10th–25th, 09:00–16:00);
12 % pay 1–30 days late and are charged 违约金 by the real rule (`rules.late_charge`); 3 % carry the last
two bills unpaid; 0.3 % are in the disconnection process with the written notice delivered (some also
notified again, critical ones reported to the authority); the customers the metering step cut off two
months ago are still cut; 0.5 % were cut, paid and were reconnected (10 % after the 24-hour limit, flagged
as complaint risk). Channel mix after individual payments moved online (calibration.md: counter payments
36,000 → 3,900 a month): counter ~8 %, the rest terminals, bank deduction, Alipay, WeChat, UnionPay, app.

Bulk rows (accounts, payments, allocations) are written with executemany; the bill runs are audited
BillRun rows (the attribution of their bills), disconnection cases go through the audited model.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from gridcare.core.demo import TZ, register_step

BILL_MONTHS = 12
CHANNELS = [("counter", 0.08), ("terminal", 0.04), ("bank", 0.15), ("alipay", 0.22), ("wechat", 0.28),
            ("unionpay", 0.05), ("app", 0.18)]


def _text(ts) -> str:
    """An aware datetime as Django stores it on SQLite (naive UTC text; also read correctly by PostgreSQL
    whose Django sessions run in UTC)."""
    return ts.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")


def _tariff(cls: str, n_tou: int) -> str:
    if cls == "residential":
        return "ZJ-RES-TOU" if n_tou == 2 else "ZJ-RES-TIERED"
    if cls in ("non_residential", "large_industrial"):
        return "EX-NONRES-TOU" if n_tou == 4 else "EX-NONRES-FLAT"
    return "EX-AGRI"


@register_step(70, "billing")
def build_billing(ctx):
    import polars as pl
    from django.db import connection

    from gridcare.accounts.models import OrgUnit, User
    from gridcare.customers.models import Customer
    from gridcare.metering.bulk import deferred_indexes
    from gridcare.metering.demo import _executemany, add_months

    from . import catalog
    from .models import Allocation, Bill, BillingAccount, BillRun, Disconnection, Payment
    from .rules import late_charge
    from .runs import query_frame
    from .services import due_date_for, ensure_shipped_tariffs, execute_run

    plan = ctx.out.get("metering")
    if not plan:
        return "no reads (metering step not run)"
    rng = np.random.default_rng(ctx.seed + 70)
    ensure_shipped_tariffs()
    customers = list(Customer.objects.order_by("id").values_list("id", "customer_class", "unit_id", "critical"))
    n = len(customers)
    cid = np.array([c[0] for c in customers], dtype=np.int64)
    cls = np.array([c[1] for c in customers], dtype=object)
    critical = {c[0] for c in customers if c[3]}
    pos = {c: i for i, c in enumerate(cid.tolist())}
    cut_now = np.isin(cid, plan["cut_now"])
    vacant = np.isin(cid, plan["vacant"])
    n_tou = plan["tou_registers"]
    status = np.where(cut_now, "disconnected", np.where(vacant, "vacant", "active"))
    prepaid = (cls == "residential") & (rng.random(n) < 0.03) & ~cut_now
    acc_rows = [(int(c), _tariff(k, n_tou.get(int(c), 0)), s, bool(p), "0.00", "20.00")
                for c, k, s, p in zip(cid.tolist(), cls.tolist(), status.tolist(), prepaid.tolist())]
    _executemany(connection, f"INSERT INTO {BillingAccount._meta.db_table} (customer_id, tariff_code, status, prepaid, "
                             "balance, low_balance_yuan) VALUES (%s, %s, %s, %s, %s, %s)", acc_rows)

    # ---- bills: the real bill run over the metering step's reads, one run a month for the company
    root = OrgUnit.objects.filter(parent__isnull=True).order_by("id").first()
    clerk = User.objects.filter(role="clerk").order_by("username").first()
    periods = plan["periods"][-BILL_MONTHS:]
    runs = []
    with deferred_indexes(Bill._meta.db_table):
        for period in periods:
            run = BillRun.objects.create(unit=root, period=period, started_by=clerk)
            run = execute_run(run)
            bill_day = dt.datetime.combine(add_months(period, 1).replace(day=10), dt.time(2), TZ)
            Bill.objects.filter(run=run).update(issued_at=bill_day)
            BillRun.objects.filter(pk=run.pk).update(created_at=bill_day, finished_at=bill_day + dt.timedelta(minutes=4))
            runs.append(run)
    bills = query_frame(f"SELECT id, customer_id, period, amount, due_date, unit_id FROM {Bill._meta.db_table} "
                        f"WHERE run_id IN ({','.join(str(r.pk) for r in runs)})",
                        {"id": pl.Int64, "customer_id": pl.Int64, "period": pl.String, "amount": pl.String,
                         "due_date": pl.String, "unit_id": pl.Int64})
    bills = bills.sort("customer_id", "period")

    # ---- who pays when
    today = ctx.today
    first = dt.date(today.year, today.month, 1)
    profile = np.full(n, "ontime", dtype=object)
    u = rng.random(n)
    profile[u < 0.12] = "late"
    profile[(u >= 0.12) & (u < 0.15)] = "arrears"
    profile[(u >= 0.15) & (u < 0.155)] = "reconnected"
    profile[(u >= 0.155) & (u < 0.158)] = "notice"
    profile[cut_now] = "cut"
    profile[prepaid & (profile != "ontime")] = "ontime"
    b_cust = bills["customer_id"].to_numpy()
    b_idx = np.array([pos[c] for c in b_cust.tolist()], dtype=np.int64)
    b_prof = profile[b_idx]
    b_period = np.array([dt.date.fromisoformat(p) for p in bills["period"].to_list()], dtype=object)
    b_due = np.array([dt.date.fromisoformat(p) for p in bills["due_date"].to_list()], dtype=object)
    b_amount = [Decimal(a) for a in bills["amount"].to_list()]
    k_of = {p: i for i, p in enumerate(periods)}
    b_k = np.array([k_of[p] for p in b_period.tolist()], dtype=np.int64)
    last = len(periods) - 1
    cut_at = plan["cut_at"]
    recon_notice = dt.datetime.combine(due_date_for(periods[max(0, last - 2)]) + dt.timedelta(days=3), dt.time(10), TZ)
    recon_cut = recon_notice + dt.timedelta(days=5)
    recon_paid = recon_cut + dt.timedelta(days=7, hours=1)

    late_rules = catalog.late_rules()
    pay_rows, alloc_rows, paid_bills = [], [], []
    pay_id = (Payment.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    seq = Payment.objects.count()
    channels = [c for c, _ in CHANNELS]
    weights = np.array([w for _, w in CHANNELS])
    clerks = list(User.objects.filter(role="clerk").values_list("id", "unit_id"))
    counter_clerk = clerks[0][0] if clerks else None
    day_weights = np.array([0.4] * 9 + [3.0] * 16 + [1.0] * 6)
    hour_weights = np.array([0.5, 3.0, 3.2, 2.4, 1.2, 1.6, 2.2, 2.0, 1.0])  # 08:00–16:00

    # every bill's draws at once: channel, paying day (by the period's window), hour, minute, days late
    nb = bills.height
    b_channel = rng.choice(len(channels), size=nb + len(cid), p=weights)
    b_hour = 8 + rng.choice(9, size=nb, p=hour_weights / hour_weights.sum())
    b_minute = rng.integers(0, 60, nb)
    b_late = rng.integers(1, 31, nb)
    b_day = np.zeros(nb, dtype=np.int64)
    for k, period in enumerate(periods):
        start = add_months(period, 1).replace(day=10)
        span = (due_date_for(period) - start).days
        w = np.array([day_weights[(start + dt.timedelta(days=d)).day - 1] for d in range(span + 1)])
        sel = b_k == k
        b_day[sel] = rng.choice(span + 1, size=int(sel.sum()), p=w / w.sum())

    def payment(i_cust, unit_id, at, amount, allocations, draw):
        nonlocal pay_id, seq
        seq += 1
        ch = channels[int(b_channel[draw])]
        ref = "" if ch == "counter" else f"DEMO{seq:09d}"
        pay_rows.append((pay_id, f"P{at.astimezone(TZ):%Y%m%d}{seq:08d}", int(cid[i_cust]), unit_id, ch, str(amount),
                         _text(at), ref, "0.00", counter_clerk if ch == "counter" else None))
        for bill_id, principal, fee in allocations:
            alloc_rows.append((pay_id, bill_id, str(principal), str(fee)))
        pay_id += 1

    units = bills["unit_id"].to_list()
    bill_ids = bills["id"].to_list()
    recon_due = {}
    for j in range(bills.height):
        prof, k, amount = b_prof[j], int(b_k[j]), b_amount[j]
        if amount <= 0:
            paid_bills.append((bill_ids[j], "0.00", "0.00"))
            continue
        due, start = b_due[j], add_months(b_period[j], 1).replace(day=10)
        if prof == "cut" and k >= last - 3:      # stopped paying four months ago, cut two months ago
            continue
        if prof == "reconnected" and last - 3 <= k <= last - 2:
            recon_due.setdefault(int(b_idx[j]), []).append((bill_ids[j], amount, due))
            continue
        if prof == "notice" and k >= last - 1:
            continue
        if prof == "arrears" and k >= last - 1:
            continue
        day = due + dt.timedelta(days=int(b_late[j])) if prof == "late" else start + dt.timedelta(days=int(b_day[j]))
        at = dt.datetime.combine(day, dt.time(int(b_hour[j]), int(b_minute[j])), TZ)
        if at >= today:
            continue  # not paid yet (the last month's bills of customers who pay near the due date)
        charge = late_charge(amount, due, at.date(), str(cls[b_idx[j]]), late_rules)
        fee = charge.amount if charge else Decimal("0.00")
        payment(b_idx[j], units[j], at, amount + fee, [(bill_ids[j], amount, fee)], j)
        paid_bills.append((bill_ids[j], str(amount), str(fee)))
    # cut, paid, reconnected: one payment for the old bills with their 违约金
    recon_cases = []
    for i, owed in recon_due.items():
        allocs, total = [], Decimal("0.00")
        for bill_id, amount, due in owed:
            charge = late_charge(amount, due, recon_paid.date(), str(cls[i]), late_rules)
            fee = charge.amount if charge else Decimal("0.00")
            allocs.append((bill_id, amount, fee))
            paid_bills.append((bill_id, str(amount), str(fee)))
            total += amount + fee
        unit_id = customers[i][2]
        payment(i, unit_id, recon_paid, total, allocs, nb + i)
        recon_cases.append((i, sum((a for _, a, _ in owed), Decimal("0.00"))))

    p_cols = ("id, payment_no, customer_id, unit_id, channel, amount, paid_at, reference, to_balance, received_by_id")
    with deferred_indexes(Payment._meta.db_table, Allocation._meta.db_table):
        _executemany(connection, f"INSERT INTO {Payment._meta.db_table} ({p_cols}) VALUES "
                                 f"({', '.join(['%s'] * 10)})", pay_rows)
        _executemany(connection, f"INSERT INTO {Allocation._meta.db_table} (payment_id, bill_id, amount, "
                                 "late_charge) VALUES (%s, %s, %s, %s)", alloc_rows)
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE demo_paid (id BIGINT PRIMARY KEY, paid NUMERIC, late NUMERIC)")
        _executemany(connection, "INSERT INTO demo_paid (id, paid, late) VALUES (%s, %s, %s)", paid_bills)
        bt = Bill._meta.db_table
        cur.execute(f"UPDATE {bt} SET status = 'paid', paid = amount, late_paid = (SELECT late FROM demo_paid "
                    f"WHERE demo_paid.id = {bt}.id) WHERE id IN (SELECT id FROM demo_paid)")
        cur.execute("DROP TABLE demo_paid")
        if connection.vendor == "postgresql":
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{Payment._meta.db_table}', 'id'), "
                        f"(SELECT MAX(id) FROM {Payment._meta.db_table}))")

    # ---- disconnection cases (audited rows: a few hundred)
    owed_by = dict(query_frame(
        f"SELECT customer_id, SUM(amount - paid) FROM {Bill._meta.db_table} WHERE status = 'issued' "
        f"GROUP BY customer_id", {"customer_id": pl.Int64, "owed": pl.String}).iter_rows())
    cases = 0
    for i in np.flatnonzero(cut_now).tolist():
        c = int(cid[i])
        owed = Decimal(owed_by.get(c) or "0")
        if owed <= 0:
            continue
        Disconnection.objects.create(
            customer_id=c, unit_id=customers[i][2], status="cut", owed=owed.quantize(Decimal("0.01")),
            notice_delivered_at=cut_at - dt.timedelta(days=5), planned_cut_at=cut_at,
            second_notice_at=cut_at - dt.timedelta(hours=2),
            authority_reported_at=cut_at - dt.timedelta(days=2) if c in critical else None,
            authority_ref="安和能监〔欠费停电〕报备" if c in critical else "", cut_at=cut_at, created_by=clerk)
        cases += 1
    for i, owed in recon_cases:
        c = int(cid[i])
        late = rng.random() < 0.1
        back = recon_paid + dt.timedelta(hours=float(rng.uniform(30, 40) if late else rng.uniform(1, 8)))
        Disconnection.objects.create(
            customer_id=c, unit_id=customers[i][2], status="reconnected", owed=owed, notice_delivered_at=recon_notice,
            planned_cut_at=recon_cut, second_notice_at=recon_cut - dt.timedelta(hours=1),
            authority_reported_at=recon_notice if c in critical else None,
            authority_ref="安和能监〔欠费停电〕报备" if c in critical else "", cut_at=recon_cut, paid_at=recon_paid,
            reconnect_due_at=recon_paid + dt.timedelta(hours=24), reconnected_at=back, complaint_risk=late,
            created_by=clerk)
        cases += 1
    delivered = today - dt.timedelta(days=2, hours=3)
    for i in np.flatnonzero(profile == "notice").tolist():
        c = int(cid[i])
        owed = Decimal(owed_by.get(c) or "0")
        if owed <= 0:
            continue
        planned = delivered + dt.timedelta(days=5)
        Disconnection.objects.create(
            customer_id=c, unit_id=customers[i][2], status="notice", owed=owed.quantize(Decimal("0.01")),
            notice_delivered_at=delivered, planned_cut_at=planned,
            second_notice_at=planned - dt.timedelta(hours=1) if rng.random() < 0.3 else None,
            authority_reported_at=delivered if c in critical else None,
            authority_ref="安和能监〔欠费停电〕报备" if c in critical else "", created_by=clerk)
        cases += 1
    n_bills = bills.height
    held = sum(r.held for r in runs)
    arrears = sum(1 for v in owed_by.values() if Decimal(v) > 0)
    return (f"{n} accounts, {n_bills} bills over {len(periods)} months ({held} held by read exceptions), "
            f"{len(pay_rows)} payments, {arrears} customers owing, {cases} disconnection cases")
