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
REBILL_MONTHS = 3     # estimated bills of the last three months are corrected by the next actual read ...
REBILL_MAX = 60       # ... up to this many a month (each goes through the real, per-bill rebill path)
REMINDER_MONTHS = 3   # reminders (with their outbound events and deliveries) for the last three months' bills
INVOICES = 2000       # e-invoice requests of customers with invoice details, in every status
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
    from .services import advance_numbers, due_date_for, ensure_shipped_tariffs, execute_run, last_number

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
    # prepaid (费控) accounts start the year with a balance topped up before it (a payment to the balance)
    opening = np.where(prepaid, rng.choice([200, 300, 500, 800], size=n), 0)
    acc_rows = [(int(c), _tariff(k, n_tou.get(int(c), 0)), s, bool(p), f"{o}.00", "20.00")
                for c, k, s, p, o in zip(cid.tolist(), cls.tolist(), status.tolist(), prepaid.tolist(),
                                         opening.tolist())]
    _executemany(connection, f"INSERT INTO {BillingAccount._meta.db_table} (customer_id, tariff_code, status, prepaid, "
                             "balance, low_balance_yuan) VALUES (%s, %s, %s, %s, %s, %s)", acc_rows)

    # ---- bills: the real bill run over the metering step's reads, one run a month for the company
    root = OrgUnit.objects.filter(parent__isnull=True).order_by("id").first()
    clerk = User.objects.filter(role="clerk").order_by("username").first()
    periods = plan["periods"][-BILL_MONTHS:]
    runs = []
    prepaid_ids = cid[prepaid].tolist()
    topups = _opening_topups(prepaid_ids, opening[prepaid].tolist(), {c[0]: c[2] for c in customers},
                             dt.datetime.combine(add_months(periods[0], 1).replace(day=3), dt.time(10), TZ))
    rebills = 0
    with deferred_indexes(Bill._meta.db_table):
        # the prepaid settlement and the rebills look bills up by customer: one index for them meanwhile
        with connection.cursor() as cur:
            cur.execute(f"CREATE INDEX demo_bill_customer ON {Bill._meta.db_table} (customer_id, status)")
        for k, period in enumerate(periods):
            run = BillRun.objects.create(unit=root, period=period, started_by=clerk)
            bill_day = dt.datetime.combine(add_months(period, 1).replace(day=10), dt.time(2), TZ)
            run = execute_run(run, now=bill_day)   # prepaid bills are paid from the balance here
            BillRun.objects.filter(pk=run.pk).update(created_at=bill_day, finished_at=bill_day + dt.timedelta(minutes=4))
            runs.append(run)
            # prepaid customers alerted at the bill day top up within the week (debts first, then the balance)
            topups += _prepaid_topups(rng, prepaid_ids, bill_day, ctx.today)
            # the next month's actual read corrected estimated bills of the last months (the real path, which
            # looks bills up by customer: an index for it while the bill indexes are deferred)
            if k + 1 < len(periods) and k >= len(periods) - 1 - REBILL_MONTHS:
                rebills += _rebill_estimates(run, clerk, REBILL_MAX)
        with connection.cursor() as cur:
            cur.execute("DROP INDEX demo_bill_customer")
    bills = query_frame(f"SELECT id, customer_id, period, amount, due_date, unit_id FROM {Bill._meta.db_table} "
                        f"WHERE status = 'issued' AND paid = 0 AND (run_id IN ({','.join(str(r.pk) for r in runs)}) "
                        f"OR rebill_of_id IS NOT NULL)",
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
    profile[prepaid] = "prepaid"   # paid from the balance by the bill run, topped up between runs
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
    seq = last_number("payment")
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
    paid_on = {}
    recon_due = {}
    for j in range(bills.height):
        prof, k, amount = b_prof[j], int(b_k[j]), b_amount[j]
        if amount <= 0:
            paid_bills.append((bill_ids[j], "0.00", "0.00"))
            continue
        due, start = b_due[j], add_months(b_period[j], 1).replace(day=10)
        if prof == "prepaid":
            continue
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
        paid_on[bill_ids[j]] = at.date()
    # cut, paid, reconnected: one payment for the old bills with their 违约金
    recon_cases = []
    for i, owed in recon_due.items():
        allocs, total = [], Decimal("0.00")
        for bill_id, amount, due in owed:
            charge = late_charge(amount, due, recon_paid.date(), str(cls[i]), late_rules)
            fee = charge.amount if charge else Decimal("0.00")
            allocs.append((bill_id, amount, fee))
            paid_bills.append((bill_id, str(amount), str(fee)))
            paid_on[bill_id] = recon_paid.date()
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
    advance_numbers("payment", seq)
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
    # ---- reminders of the last months' bills: before the due date, and 1 and 10 days after it, to customers
    # who had not paid by then (what the daily sweep sent), with their outbound events and deliveries
    from .services import reminder_text

    account_no = dict(Customer.objects.values_list("id", "account_no"))
    today_d = today.date()
    sent_at = dt.time(9)
    reminders = []
    for j in range(bills.height):
        if int(b_k[j]) < len(periods) - REMINDER_MONTHS or b_prof[j] == "prepaid" or b_amount[j] <= 0:
            continue
        due = b_due[j]
        for kind, day in (("before_due", due - dt.timedelta(days=3)), ("after_due_1", due + dt.timedelta(days=1)),
                          ("after_due_10", due + dt.timedelta(days=10))):
            paid = paid_on.get(bill_ids[j])
            if day < today_d and (paid is None or paid > day):
                reminders.append((bill_ids[j], kind, reminder_text(kind, account_no[int(b_cust[j])], b_period[j],
                                                                   b_amount[j], due),
                                  dt.datetime.combine(day, sent_at, TZ)))
    n_reminders = _demo_reminders(reminders, today)
    _date_low_balance_alerts()
    n_invoices = _demo_invoices(rng, today, clerk)
    n_prepaid = Payment.objects.filter(channel="prepaid").count()
    n_bills = Bill.objects.exclude(status="cancelled").count()
    held = sum(r.held for r in runs)
    arrears = sum(1 for v in owed_by.values() if Decimal(v) > 0)
    return (f"{n} accounts, {n_bills} bills over {len(periods)} months ({held} held by read exceptions), "
            f"{len(pay_rows)} payments, {arrears} customers owing, {cases} disconnection cases, {rebills} rebills "
            f"after estimates, {n_prepaid} prepaid deductions ({topups} top-ups), {n_reminders} reminders, "
            f"{n_invoices} e-invoice requests")


def _opening_topups(prepaid_ids, amounts, unit_of, at) -> int:
    """The payments that put the prepaid accounts' opening balances there (to the balance, no bill)."""
    from .models import Payment
    from .services import advance_numbers, last_number

    seq = last_number("payment")
    rows = []
    for i, (c, amount) in enumerate(zip(prepaid_ids, amounts)):
        seq += 1
        ch = ("wechat", "alipay", "app")[i % 3]
        rows.append(Payment(payment_no=f"P{at:%Y%m%d}{seq:08d}", customer_id=c, unit_id=unit_of[c], channel=ch,
                            amount=Decimal(amount), paid_at=at, reference=f"DEMOTOPUP{seq:09d}",
                            to_balance=Decimal(amount)))
    Payment.objects.bulk_create(rows, batch_size=2000)
    advance_numbers("payment", seq)
    return len(rows)


def _prepaid_topups(rng, prepaid_ids, bill_day, today) -> int:
    """Prepaid customers whose balance runs low (or who were alerted at the bill day) top up within the week: what the
    balance did not cover is paid first (before its due date: no 违约金), the rest goes to the balance,
    which re-arms the alert when it is back over the threshold — what do_record_payment does, in bulk."""
    from django.db.models import Q

    from .models import Allocation, Bill, BillingAccount, Payment
    from .services import advance_numbers, last_number

    accs = list(BillingAccount.objects.filter(customer_id__in=prepaid_ids, prepaid=True)
                .filter(Q(low_balance_alerted_at__isnull=False) | Q(balance__lt=120)).select_related("customer"))
    # most top up when the balance runs low, before the alert; most of the others once alerted
    accs = [a for a in accs if rng.random() < (0.9 if a.low_balance_alerted_at else 0.6)]
    if not accs:
        return 0
    owed: dict[int, list] = {}
    for b in Bill.objects.filter(customer_id__in=[a.customer_id for a in accs], status="issued").order_by("due_date", "id"):
        owed.setdefault(b.customer_id, []).append(b)
    seq = last_number("payment")
    pays, allocs, bills = [], [], []
    for a in accs:
        at = bill_day + dt.timedelta(days=int(rng.integers(1, 7)), hours=int(rng.integers(0, 10)))
        if at >= today:
            continue
        debt = sum((b.amount - b.paid for b in owed.get(a.customer_id, [])), Decimal("0.00"))
        extra = Decimal(int(rng.choice([200, 300, 500, 800, 1000])))
        seq += 1
        p = Payment(payment_no=f"P{at.astimezone(TZ):%Y%m%d}{seq:08d}", customer_id=a.customer_id,
                    unit_id=a.customer.unit_id, channel=("wechat", "alipay", "app", "terminal")[seq % 4],
                    amount=debt + extra, paid_at=at, reference=f"DEMOTOPUP{seq:09d}", to_balance=extra)
        pays.append(p)
        for b in owed.get(a.customer_id, []):
            allocs.append((p, b, b.amount - b.paid))
            b.paid, b.status = b.amount, "paid"
            bills.append(b)
        a.balance += extra
        if a.balance >= a.low_balance_yuan:
            a.low_balance_alerted_at = None
    Payment.objects.bulk_create(pays, batch_size=2000)
    advance_numbers("payment", seq)
    Allocation.objects.bulk_create([Allocation(payment=p, bill=b, amount=amt) for p, b, amt in allocs], batch_size=2000)
    from django.db import connection

    with connection.cursor() as cur:
        cur.executemany(f"UPDATE {Bill._meta.db_table} SET paid = %s, status = %s WHERE id = %s",
                        [(str(b.paid), b.status, b.pk) for b in bills])
        cur.executemany(f"UPDATE {BillingAccount._meta.db_table} SET balance = %s, low_balance_alerted_at = %s "
                        f"WHERE id = %s", [(str(a.balance), connection.ops.adapt_datetimefield_value(a.low_balance_alerted_at), a.pk)
                         for a in accs])
    return len(pays)


def _rebill_estimates(run, user, cap: int) -> int:
    """Bills of `run` issued on an estimated read, corrected when the next month's actual read came in: the
    real path (metering.services.rebill_after_estimate: interpolation, cancel + rebill, audited), for up to
    `cap` bills, the corrected bill issued the day after that read."""
    from gridcare.accounts.models import User
    from gridcare.metering.models import MeterRead
    from gridcare.metering.services import add_months, rebill_after_estimate

    from .models import Bill

    admin = User.objects.filter(role="admin").order_by("id").first() or user
    done = 0
    nxt = add_months(run.period, 1)
    for bill in Bill.objects.filter(run=run, estimated=True, status="issued").select_related("customer").order_by("id"):
        if done >= cap:
            break
        read = (MeterRead.objects.filter(customer_id=bill.customer_id, period=nxt, register="total", status="valid")
                .exclude(source="estimate").order_by("read_at").first())
        if read is None:
            continue
        for new in rebill_after_estimate(admin, bill.customer, read):
            Bill.objects.filter(pk=new.pk).update(issued_at=read.read_at + dt.timedelta(days=1))
            done += 1
    return done


def _demo_reminders(reminders, today) -> int:
    """The reminders the daily sweep sent for the last months' bills, as the sweep records them: one
    OutboundEvent per (bill, kind) keyed `billing-reminder:<bill>:<kind>`, its Delivery with the channel the
    delivery layer chooses (the same SQL, notifications.delivery) marked sent (or unreachable), and the
    Reminder row linking the bill to it. `reminders`: (bill id, kind, text, at)."""
    from django.db import connection

    from gridcare.customers.models import Customer
    from gridcare.metering.demo import _executemany
    from gridcare.notifications.delivery import UNREACHABLE_MESSAGE, channel_sql
    from gridcare.notifications.models import Delivery, OutboundEvent

    from .models import Bill, Reminder

    if not reminders:
        return 0
    ev, d, b, c = (OutboundEvent._meta.db_table, Delivery._meta.db_table, Bill._meta.db_table,
                   Customer._meta.db_table)
    first = (OutboundEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    _executemany(connection, f"INSERT INTO {ev} (key, kind, subject, body, source_type, source_id, created_at) "
                             f"VALUES (%s, 'billing_reminder', '电费缴费提醒', %s, 'billing.bill', %s, %s)",
                 ((f"billing-reminder:{bill}:{kind}", text, str(bill), _text(at)) for bill, kind, text, at in reminders))
    channel, address = channel_sql()
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {d} (event_id, customer_id, channel, address, status, attempts, claim_token, provider_ref, "
            f"error, created_at, sent_at) SELECT s.eid, s.cid, s.ch, s.addr, "
            f"CASE WHEN s.ch = 'none' THEN 'unreachable' ELSE 'sent' END, CASE WHEN s.ch = 'none' THEN 0 ELSE 1 END, "
            f"'', '', CASE WHEN s.ch = 'none' THEN %s ELSE '' END, s.at, CASE WHEN s.ch = 'none' THEN NULL ELSE s.at END "
            f"FROM (SELECT e.id AS eid, c.id AS cid, {channel} AS ch, {address} AS addr, e.created_at AS at FROM {ev} e "
            f"JOIN {b} b ON b.id = CAST(e.source_id AS INTEGER) JOIN {c} c ON c.id = b.customer_id "
            f"WHERE e.id >= %s) s", [UNREACHABLE_MESSAGE, first])
    chosen = dict(Delivery.objects.filter(event_id__gte=first).values_list("event_id", "channel"))
    ids = dict(OutboundEvent.objects.filter(id__gte=first).values_list("key", "id"))
    rows = []
    for bill, kind, text, at in reminders:
        e = ids[f"billing-reminder:{bill}:{kind}"]
        rows.append((bill, kind, chosen.get(e, "none"), text[:300], _text(at), e))
    _executemany(connection, f"INSERT INTO {Reminder._meta.db_table} (bill_id, kind, channel, text, sent_at, event_id) "
                             f"VALUES (%s, %s, %s, %s, %s, %s)", rows)
    return len(rows)


def _demo_invoices(rng, today, clerk) -> int:
    """E-invoice requests of customers with invoice details (prefilled as do_request_invoice does), for one
    of their bills or payments, in every status: queued (the last days), exported, issued, failed."""
    from django.db import connection

    from gridcare.customers.models import InvoiceDetail
    from gridcare.metering.demo import _executemany

    from .models import Bill, InvoiceRequest, Payment

    details = list(InvoiceDetail.objects.select_related("customer").order_by("customer_id")[:INVOICES])
    ids = [x.customer_id for x in details]
    bill_of = dict(Bill.objects.filter(customer_id__in=ids).exclude(status="cancelled").order_by("period", "id")
                   .values_list("customer_id", "id"))   # (the latest wins)
    amount_of = dict(Bill.objects.filter(id__in=bill_of.values()).values_list("id", "amount"))
    pay_of = dict(Payment.objects.filter(customer_id__in=ids).exclude(channel="prepaid").order_by("paid_at")
                  .values_list("customer_id", "id"))
    pay_amount = dict(Payment.objects.filter(id__in=pay_of.values()).values_list("id", "amount"))
    rows = []
    for i, x in enumerate(details):
        cu = x.customer
        email, phone = x.invoice_email or cu.email, x.invoice_phone or cu.phone
        if not (email or phone):
            continue
        use_bill = cu.pk in bill_of and (cu.pk not in pay_of or rng.random() < 0.7)
        if not use_bill and cu.pk not in pay_of:
            continue
        bill_id, pay_id = (bill_of[cu.pk], None) if use_bill else (None, pay_of[cu.pk])
        amount = amount_of[bill_id] if use_bill else pay_amount[pay_id]
        u = rng.random()
        status = "queued" if u < 0.2 else "exported" if u < 0.35 else "failed" if u < 0.4 else "issued"
        created = today - dt.timedelta(days=float(rng.uniform(0, 6)) if status == "queued"
                                       else float(rng.uniform(8, 300)))
        exported = None if status == "queued" else created + dt.timedelta(hours=float(rng.uniform(1, 30)))
        rows.append((cu.pk, cu.unit_id, bill_id, pay_id, str(amount), (x.title or cu.name)[:100], x.tax_id,
                     x.address_phone, " ".join(v for v in (x.bank_name, x.bank_account) if v)[:150], email, phone,
                     status, f"2633{int(rng.integers(10**15, 10**16))}" if status == "issued" else "",
                     _text(exported) if exported else None, clerk.pk if clerk else None, _text(created)))
    _executemany(connection, f"INSERT INTO {InvoiceRequest._meta.db_table} (customer_id, unit_id, bill_id, payment_id, "
                             f"amount, title, tax_id, address_phone, bank, email, phone, status, invoice_no, "
                             f"exported_at, requested_by_id, created_at) VALUES ({', '.join(['%s'] * 16)})", rows)
    return len(rows)


def _date_low_balance_alerts() -> None:
    """The low-balance alerts the runs queued are the year's: dated at the deduction that crossed the
    threshold (their key names its payment) and delivered then, not left for today's worker to send."""
    from django.db import connection

    from gridcare.notifications.models import Delivery, OutboundEvent

    from .models import Payment

    ev, d, p = OutboundEvent._meta.db_table, Delivery._meta.db_table, Payment._meta.db_table
    prefix = "billing-low-balance:"
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {ev} SET created_at = (SELECT paid_at FROM {p} WHERE payment_no = "
                    f"substr({ev}.key, {len(prefix) + 1})) WHERE kind = 'billing_low_balance'")
        cur.execute(f"UPDATE {d} SET status = 'sent', attempts = 1, created_at = (SELECT created_at FROM {ev} "
                    f"WHERE {ev}.id = {d}.event_id), sent_at = (SELECT created_at FROM {ev} WHERE {ev}.id = {d}.event_id) "
                    f"WHERE status = 'pending' AND event_id IN (SELECT id FROM {ev} WHERE kind = 'billing_low_balance')")
