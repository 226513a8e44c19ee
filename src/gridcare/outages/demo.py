"""Demo outages: a year of planned, temporary and fault outages on the demo grid, with repeats
concentrated on a few 台区 so that the frequent-outage figures appear (calibration.md: 频繁停电 is 39 %
of complaints; "3 or more outages within two months").

Where the repeats go: the 台区 where the work-order demo put its outage complaints and area-outage
repairs (its hot spots) are read back from the work orders, so complaints and outages meet on the same
台区; without work orders, a seeded sample. Volumes per year: ~1.2 planned and ~0.8 fault outages per
feeder, ~0.3 台区 faults per 台区 (10 % of faults momentary, under 5 minutes, which the indices and the
scan ignore), ~0.2 temporary repairs per feeder, and for each hot 台区 one or two runs of 3–4 outages
within 50 days. Fault-repair orders that fall inside an outage on their 台区 are linked to it (as the
intake hook does for live calls). History sends no messages; two upcoming planned outages and one fault
under way (relative to the real clock, so the board has something to show) are created through the
services, which queue their notices like any other; so are three fault calls just taken on another feeder,
which the grouping rule turns into a 疑似线路故障 alert."""
from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from gridcare.core.audit import audit_context, record_bulk
from gridcare.core.demo import register_step
from gridcare.customers.models import Customer
from gridcare.grid.models import Feeder, TransformerArea

from .models import Outage, OutageArea, OutageCall

PLANNED_REASONS = ["10kV线路春季检修", "配网设备预防性试验", "线路迁改配合市政施工", "配电变压器增容改造", "柱上开关更换",
                   "线路绝缘化改造", "配电房设备检修"]
TEMP_REASONS = ["消除线路缺陷", "更换发热线夹", "处理树线矛盾", "配变低压侧消缺"]
FAULT_REASONS = ["雷击导致线路跳闸", "大风导致异物挂线", "配变低压熔丝熔断", "电缆中间头击穿", "车辆撞杆", "鸟害导致跳闸",
                 "树木倒伏压线", "用户设备故障越级跳闸"]
HOT_SHARE = 0.04


def _hot_taiqu(rng, taiqus):
    from gridcare.workorders.models import WorkOrder

    counts = (WorkOrder.objects.filter(Q(category_l2__in=["frequent_outage", "outage_notice"])
                                       | Q(order_type="fault_repair", fault_kind="area_no_power"))
              .exclude(transformer_area__isnull=True).values_list("transformer_area_id").annotate(n=Count("id"))
              .order_by("-n", "transformer_area_id"))
    n_hot = max(3, round(len(taiqus) * HOT_SHARE))
    ranked = [pk for pk, _n in counts[:n_hot]]
    rest = [t.pk for t in taiqus if t.pk not in set(ranked)]
    return ranked + rng.sample(rest, max(0, n_hot - len(ranked)))


@register_step(50, "outages")
def build_outages(ctx):
    rng = ctx.rng
    today = ctx.today
    year_start = today - timedelta(days=365)
    feeders = list(Feeder.objects.select_related("unit").order_by("code"))
    taiqus = list(TransformerArea.objects.select_related("unit", "feeder").order_by("code"))
    if not feeders or not taiqus:
        return "no grid"
    by_feeder = defaultdict(list)
    for t in taiqus:
        by_feeder[t.feeder_id].append(t)
    per_tq = dict(Customer.objects.values_list("transformer_area_id").annotate(n=Count("id")))
    crit_tq = dict(Customer.objects.filter(critical=True).values_list("transformer_area_id").annotate(n=Count("id")))
    plans = []  # (kind, feeder, [taiqu], start, minutes, reason)

    def at(day_offset, hour, minute=0):
        d = year_start + timedelta(days=day_offset)
        return d.replace(hour=hour, minute=minute, second=0, microsecond=0)

    def fault_minutes():
        return rng.randint(2, 5) if rng.random() < 0.10 else rng.randint(20, 240)

    for f in feeders:
        tqs = by_feeder.get(f.pk, [])
        if not tqs:
            continue
        for _ in range(_poisson(rng, 1.2)):
            plans.append(("planned", f, tqs, at(rng.randint(0, 364), rng.choice([7, 8, 9])), rng.choice([240, 300, 360, 480]),
                          rng.choice(PLANNED_REASONS)))
        for _ in range(_poisson(rng, 0.8)):
            plans.append(("fault", f, tqs, at(rng.randint(0, 364), rng.randint(0, 23), rng.randint(0, 59)), fault_minutes(),
                          rng.choice(FAULT_REASONS)))
        for _ in range(_poisson(rng, 0.2)):
            t = rng.choice(tqs)
            plans.append(("temporary", f, [t], at(rng.randint(0, 364), rng.choice([9, 13, 14])), rng.choice([60, 120, 180]),
                          rng.choice(TEMP_REASONS)))
    incidents = _incidents(tq_by_pk := {t.pk: t for t in taiqus})
    for tq_pk, first, last in incidents:
        if rng.random() < 0.8:  # most area-outage calls come from a real outage on their 台区
            t = tq_by_pk[tq_pk]
            start = first - timedelta(minutes=rng.randint(5, 40))
            minutes = int((last - start).total_seconds() // 60) + rng.randint(20, 120)
            plans.append(("fault", t.feeder, [t], start, minutes, rng.choice(FAULT_REASONS)))
    for t in taiqus:
        for _ in range(_poisson(rng, 0.15)):
            plans.append(("fault", t.feeder, [t], at(rng.randint(0, 364), rng.randint(0, 23), rng.randint(0, 59)),
                          fault_minutes(), rng.choice(FAULT_REASONS)))
    hot = _hot_taiqu(rng, taiqus)
    for pk in hot:
        t = tq_by_pk[pk]
        for _run in range(rng.choice([1, 1, 2])):
            first = rng.randint(0, 300)
            for i in range(rng.choice([3, 3, 4])):
                day = min(364, first + i * rng.randint(8, 16))
                kind = rng.choice(["fault", "fault", "planned"])
                plans.append((kind, t.feeder, [t], at(day, rng.randint(6, 21), rng.randint(0, 59)),
                              rng.randint(30, 300) if kind == "fault" else rng.choice([240, 360]),
                              rng.choice(FAULT_REASONS if kind == "fault" else PLANNED_REASONS)))
    plans = [p for p in plans if p[3] < today]
    plans.sort(key=lambda p: p[3])
    outages, areas_of = [], []
    seq = defaultdict(int)
    for kind, f, tqs, start, minutes, reason in plans:
        end = start + timedelta(minutes=minutes)
        seq[start.date()] += 1
        whole = len(tqs) > 1
        notice = None
        if kind == "planned":
            notice = start - timedelta(days=rng.choice([7, 8, 9, 10]) if rng.random() > 0.05 else rng.choice([3, 5]))
        elif kind == "temporary":
            notice = start - timedelta(hours=rng.choice([26, 30, 48]))
        label = {"planned": "计划停电", "temporary": "临时检修", "fault": "故障停电"}[kind]
        o = Outage(outage_no=f"TD{start:%y%m%d}{seq[start.date()]:04d}", kind=kind, scope_kind="feeder" if whole else "taiqu",
                   feeder=f, unit=f.unit if whole else tqs[0].unit,
                   title=(f"{f.name}{label}" if whole else f"{tqs[0].name}{label}"), reason=reason, state="restored",
                   start_at=start, end_at=end if kind != "fault" else None, expected_restoration_at=end, restored_at=end,
                   progress="restored", notice_sent_at=notice or start,
                   notice_late=bool(kind == "planned" and notice and start - notice < timedelta(days=7)),
                   notice_late_reason="配合外部工程，工期临时调整" if kind == "planned" and notice and start - notice < timedelta(days=7) else "",
                   customers_affected=sum(per_tq.get(t.pk, 0) for t in tqs),
                   critical_affected=sum(crit_tq.get(t.pk, 0) for t in tqs), source="demo",
                   cause=reason if kind == "fault" else "")
        outages.append(o)
        areas_of.append(tqs)
    Outage.objects.bulk_create(outages, batch_size=1000)
    record_bulk(outages, "create", source="demo", note="演示数据")
    areas = [OutageArea(outage=o, transformer_area=t, restored_at=o.restored_at) for o, tqs in zip(outages, areas_of) for t in tqs]
    OutageArea.objects.bulk_create(areas, batch_size=2000)
    calls = _link_calls(outages, areas_of)
    live = _live_outages(ctx, feeders, by_feeder, hot, tq_by_pk)
    ctx.out["outages"] = outages
    return (f"{len(outages)} outages ({sum(o.kind == 'planned' for o in outages)} planned, "
            f"{sum(o.kind == 'fault' for o in outages)} fault), {len(areas)} 台区 parts, {calls} calls linked, "
            f"{len(hot)} hot 台区, {live} live")


def _incidents(taiqus):
    """Area-outage repair calls of the work-order demo, grouped per 台区 into incidents (calls less
    than 3 hours apart): [(台区 pk, first call, last call)]."""
    from gridcare.workorders.models import WorkOrder

    out, current = [], None
    for tq, at in (WorkOrder.objects.filter(order_type="fault_repair", fault_kind="area_no_power",
                                            transformer_area_id__in=list(taiqus))
                   .order_by("transformer_area_id", "accepted_at").values_list("transformer_area_id", "accepted_at")):
        if current and current[0] == tq and at - current[2] < timedelta(hours=3):
            current[2] = at
        else:
            if current:
                out.append(tuple(current))
            current = [tq, at, at]
    if current:
        out.append(tuple(current))
    return out


def _poisson(rng, lam):
    # Knuth's method: small means only
    import math

    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _link_calls(outages, areas_of):
    from gridcare.workorders.models import WorkOrder

    windows = defaultdict(list)
    for o, tqs in zip(outages, areas_of):
        for t in tqs:
            windows[t.pk].append((o.start_at, o.restored_at + timedelta(minutes=30), o))
    rows, counts = [], defaultdict(int)
    for pk, tq, at in WorkOrder.objects.filter(order_type="fault_repair", fault_kind__in=["area_no_power", "single_no_power"]
                                               ).values_list("pk", "transformer_area_id", "accepted_at"):
        for start, end, o in windows.get(tq, ()):
            if start <= at <= end:
                rows.append(OutageCall(outage=o, work_order_id=pk, transformer_area_id=tq, at=at))
                counts[o.pk] += 1
                break
    OutageCall.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    by_count = defaultdict(list)
    for opk, n in counts.items():
        by_count[n].append(opk)
    for n, pks in by_count.items():
        Outage.objects.filter(pk__in=pks).update(call_count=n)
    return len(rows)


def _live_outages(ctx, feeders, by_feeder, hot, tq_by_pk):
    """Two planned outages 8–12 days ahead and one fault under way, relative to the real clock."""
    from gridcare.accounts.models import User

    from . import services

    admin = User.objects.filter(role="admin").first() or User.objects.filter(is_superuser=True).first()
    if admin is None:
        return 0
    now = max(timezone.now(), ctx.today).replace(second=0, microsecond=0)
    rng, made = ctx.rng, 0
    with audit_context(admin, "demo"):
        for days in (8, 12):
            f = rng.choice([f for f in feeders if by_feeder.get(f.pk)])
            start = (now + timedelta(days=days)).replace(hour=8, minute=0)
            services.do_create_outage(admin, {"kind": "planned", "scope_kind": "feeder", "feeder_code": f.code,
                                              "start_at": start, "end_at": start + timedelta(hours=6),
                                              "reason": rng.choice(PLANNED_REASONS)})
            made += 1
        t = tq_by_pk[hot[0]]
        o = services.do_create_outage(admin, {"kind": "fault", "scope_kind": "taiqu", "taiqu_codes": [t.code],
                                              "start_at": now - timedelta(minutes=50), "reason": rng.choice(FAULT_REASONS),
                                              "expected_restoration_at": now + timedelta(hours=2)})
        services.do_progress(admin, o.outage_no, "arrived", "抢修人员已到达现场", at=now - timedelta(minutes=20))
        made += 1
    made += _live_feeder_fault(ctx, [f for f in feeders if f.pk != t.feeder_id], by_feeder, now)
    return made


def _live_feeder_fault(ctx, feeders, by_feeder, now) -> int:
    """Three fault calls in the last 20 minutes from two 台区 of one feeder outside any known outage, taken
    through the work-order intake as an agent would: the grouping rule opens a 疑似线路故障 alert for the
    dispatchers (the board's feeder alerts), and the orders wait for the intelligence sweep like any other."""
    from gridcare.accounts.models import User
    from gridcare.workorders.services import do_create_order

    agent = User.objects.filter(role="agent", is_active=True).order_by("username").first()
    rng = ctx.rng
    candidates = [f for f in feeders if len(by_feeder.get(f.pk, [])) >= 2]
    if agent is None or not candidates:
        return 0
    feeder = rng.choice(candidates)
    callers = []
    for taiqu in rng.sample(by_feeder[feeder.pk], 2):
        callers += list(Customer.objects.filter(transformer_area=taiqu).order_by("account_no")[:2])
    texts = ["客户反映家里和邻居家都突然停电了，整栋楼都没电。", "客户反映小区大面积停电，路灯也不亮，请尽快抢修。",
             "客户反映村里几户人家同时停电，询问何时恢复。"]
    with audit_context(agent, "demo"):
        for minutes, customer, text in zip((18, 11, 5), callers[:1] + callers[2:3] + callers[1:2], texts):
            do_create_order(agent, {"order_type": "fault_repair", "fault_kind": "area_no_power", "channel": "hotline",
                                    "account_no": customer.account_no, "text": text},
                            at=now - timedelta(minutes=minutes))
    return 1
