"""Demo grid: substations and 10 kV feeders per county, 台区 sized to the customers they serve
(urban ~200 customers a 台区, rural ~80, remote ~35), each with a 台区经理 from the station's crew."""
import math

from gridcare.accounts.models import User
from gridcare.core.demo import register_step

from .models import Feeder, Substation, TransformerArea

CUSTOMERS_PER_TAIQU = {"urban": 200, "rural": 80, "remote": 35}
TAIQU_PER_FEEDER = {"urban": 10, "rural": 14, "remote": 12}
_VILLAGE = "东西南北上下前后大小新老"
_VILLAGE2 = "山河湾桥林塘坪岭坝溪庄岗湖田港"
_ROADS = ["人民路", "解放路", "建设路", "中山路", "和平路", "新华路", "文化路", "健康路", "朝阳路", "滨江路",
          "青年路", "工业路", "学府路", "胜利路", "长安街", "光明路"]


@register_step(20, "grid")
def build_grid(ctx):
    rng = ctx.rng
    stations = ctx.out["stations"]
    plan = []  # (station, area_kind, customers)
    for st, share, mix in stations:
        n = ctx.customers * share
        for kind, part in mix.items():
            plan.append((st, kind, int(round(n * part))))
    # make the plan's total exactly the requested number of customers
    diff = ctx.customers - sum(p[2] for p in plan)
    st0, k0, n0 = plan[0]
    plan[0] = (st0, k0, n0 + diff)

    crews = {}
    for u in User.objects.filter(role="field"):
        crews.setdefault(u.unit_id, []).append(u)
    substations, feeders, taiqus, allocation = {}, [], [], []
    f_seq, t_seq = 0, 0
    for st, kind, n_customers in plan:
        if n_customers <= 0:
            continue
        county = st.parent
        subs = substations.setdefault(county.pk, [])
        if not subs:
            for i in range(1, 4 if county.code == "AH01" else 3):
                name = f"{county.name[:2]}{['一', '二', '三'][i - 1]}号110kV变电站"
                subs.append(Substation.objects.create(code=f"{county.code}B{i}", name=name, unit=county))
        n_tq = max(1, math.ceil(n_customers / CUSTOMERS_PER_TAIQU[kind]))
        n_feeders = max(1, math.ceil(n_tq / TAIQU_PER_FEEDER[kind]))
        st_feeders = []
        for _ in range(n_feeders):
            f_seq += 1
            sub = subs[f_seq % len(subs)]
            st_feeders.append(Feeder(code=f"F{f_seq:04d}", name=f"10kV{st.name[:2]}{f_seq:03d}线",
                                     substation=sub, unit=county))
        Feeder.objects.bulk_create(st_feeders)
        feeders += st_feeders
        per_tq = [n_customers // n_tq + (1 if i < n_customers % n_tq else 0) for i in range(n_tq)]
        station_crew = crews.get(st.pk, [None])
        for i in range(n_tq):
            t_seq += 1
            if kind == "urban":
                label = f"{rng.choice(_ROADS)}{rng.randint(1, 30)}号小区{rng.randint(1, 4)}号台区"
            else:
                label = f"{rng.choice(_VILLAGE)}{rng.choice(_VILLAGE2)}村{rng.randint(1, 5)}号台区"
            taiqus.append(TransformerArea(
                code=f"TQ{t_seq:05d}", name=label, feeder=st_feeders[i % n_feeders], unit=st, area_kind=kind,
                manager=station_crew[i % len(station_crew)],
                capacity_kva=rng.choice([200, 315, 400, 500, 630] if kind == "urban" else [50, 80, 100, 160, 200])))
            allocation.append(per_tq[i])
    TransformerArea.objects.bulk_create(taiqus, batch_size=2000)
    from gridcare.core.audit import record_bulk

    record_bulk(Substation.objects.all(), "create", note="demo-data")
    record_bulk(feeders, "create", note="demo-data")
    record_bulk(taiqus, "create", note="demo-data")
    ctx.out["taiqu_allocation"] = list(zip(taiqus, allocation))
    return f"{Substation.objects.count()} substations, {len(feeders)} feeders, {len(taiqus)} 台区"
