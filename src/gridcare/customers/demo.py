"""Demo customers: plausible names, addresses, account numbers and phones; a realistic class mix
(居民 ~88%, 一般工商业 ~9%, 农业 ~2.5%, 大工业 ~0.5%); critical customers (hospitals, water works,
government, stations) listed by name; invoice details for businesses."""
from datetime import date, timedelta

from gridcare.accounts.demo import person_name
from gridcare.core.audit import record_bulk
from gridcare.core.demo import register_step
from gridcare.grid.models import Meter

from .models import Customer, InvoiceDetail
from .validators import credit_code_with_check

CLASS_MIX = {
    "urban": [("residential", 0.86), ("non_residential", 0.13), ("large_industrial", 0.01)],
    "rural": [("residential", 0.89), ("non_residential", 0.06), ("agricultural", 0.045), ("large_industrial", 0.005)],
    "remote": [("residential", 0.9), ("agricultural", 0.08), ("non_residential", 0.02)],
}
CRITICAL = [("安和市人民医院", "hospital"), ("安和市中医院", "hospital"), ("安和市第一水厂", "water"),
            ("安和市人民政府", "government"), ("安和火车站", "station"), ("安和市第一中学", "school"),
            ("青溪县人民医院", "hospital"), ("青溪县自来水公司", "water"), ("青溪县人民政府", "government"),
            ("临川县人民医院", "hospital"), ("临川县水厂", "water"), ("临川县人民政府", "government"),
            ("中国移动安和分公司机房", "communication"), ("安和汽车客运站", "station")]
_SHOPS = ["超市", "餐馆", "五金店", "药房", "理发店", "饭店", "酒店", "加油站", "农资店", "汽修厂", "幼儿园",
          "诊所", "家具厂", "服装店", "茶楼", "物业公司", "养殖场", "粮油店", "印刷厂", "建材店"]
_FACTORIES = ["机械制造有限公司", "纺织有限公司", "水泥有限公司", "化工有限公司", "钢结构有限公司", "食品有限公司"]
_FARMS = ["灌溉站", "养殖场", "种植合作社", "排涝站", "茶厂"]
_TOWNS = {"AH01": ["东城街道", "西城街道", "南湖街道"], "AH02": ["青溪镇", "石桥镇", "白沙乡", "云岭乡"],
          "AH03": ["临川镇", "桃源镇", "河湾乡"]}
_ROADS = ["人民路", "解放路", "建设路", "中山路", "和平路", "新华路", "文化路", "朝阳路", "滨江路", "青年路", "学府路"]
_BANKS = ["中国工商银行安和分行", "中国农业银行安和分行", "中国建设银行安和支行", "安和农村商业银行"]


def _pick(rng, weighted):
    r, acc = rng.random(), 0.0
    for value, weight in weighted:
        acc += weight
        if r < acc:
            return value
    return weighted[-1][0]


def _mobile(rng):
    return rng.choice("3456789") and f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"


@register_step(30, "customers")
def build_customers(ctx):
    rng = ctx.rng
    customers, invoices_for = [], []
    critical_left = list(CRITICAL)
    seq_by_station: dict[str, int] = {}
    station_index: dict[str, int] = {}
    for taiqu, n in ctx.out["taiqu_allocation"]:
        st = taiqu.unit
        county_code = st.code[:4]
        towns = _TOWNS.get(county_code, ["城关镇"])
        town = towns[(int(st.code[-2:]) - 1) % len(towns)]
        place = "安和市" if county_code == "AH01" else st.parent.name[:3]
        village = taiqu.name.split("村")[0] + "村" if "村" in taiqu.name else None
        for _ in range(n):
            seq = seq_by_station[st.code] = seq_by_station.get(st.code, 0) + 1
            station_no = station_index.setdefault(st.code, len(station_index) + 1)
            account_no = f"3{station_no:02d}{seq:07d}"  # 户号: 10 digits, unique per station
            cls = _pick(rng, CLASS_MIX[taiqu.area_kind])
            critical_kind = ""
            if cls == "residential":
                name = person_name(rng)
            elif cls == "agricultural":
                name = f"{(village or town)[:3]}{rng.choice(_FARMS)}"
            elif cls == "large_industrial":
                name = f"安和{rng.choice('华鑫宏达恒盛泰丰兴隆')}{rng.choice(_FACTORIES)}"
            else:
                name = f"{person_name(rng)[:1]}记{rng.choice(_SHOPS)}" if rng.random() < 0.7 else \
                    f"安和市{rng.choice('东西南北新')}{rng.choice(_SHOPS)}"
            if taiqu.area_kind == "urban" and critical_left and cls == "non_residential" and rng.random() < 0.01:
                name, critical_kind = critical_left.pop(0)
            if taiqu.area_kind == "urban":
                address = (f"{place}{town}{rng.choice(_ROADS)}{rng.randint(1, 300)}号"
                           + (f"{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元{rng.randint(1, 30)}{rng.randint(1, 4):02d}室"
                              if cls == "residential" else ""))
            else:
                address = f"{place}{town}{village or '新村'}{rng.randint(1, 12)}组{rng.randint(1, 120)}号"
            phone = _mobile(rng) if rng.random() < 0.95 else ""
            customers.append(Customer(
                account_no=account_no, name=name, customer_class=cls, unit=st, transformer_area=taiqu,
                address=address, area_kind=taiqu.area_kind, phone=phone,
                phone2=_mobile(rng) if rng.random() < 0.2 else "",
                critical=bool(critical_kind), critical_kind=critical_kind,
                opened_on=date(1995, 1, 1) + timedelta(days=rng.randint(0, 11200)),
                notify_sms=bool(phone), notify_wechat=rng.random() < 0.35))
    Customer.objects.bulk_create(customers, batch_size=2000)
    meters, invoices = [], []
    for i, c in enumerate(customers):
        meters.append(Meter(meter_no=f"33{c.account_no}{i % 10}", customer=c, transformer_area=c.transformer_area,
                            tou=c.customer_class != "residential" or rng.random() < 0.3,
                            multiplier=1 if c.customer_class != "large_industrial" else rng.choice([20, 40, 80]),
                            installed_on=c.opened_on))
        if c.customer_class in ("non_residential", "large_industrial") and rng.random() < 0.7:
            body = f"9133{rng.randint(1000, 9999)}{''.join(rng.choice('0123456789ABCDEFGHJKLMNPQRTUWXY') for _ in range(9))}"
            invoices.append(InvoiceDetail(
                customer=c, title=c.name, tax_id=credit_code_with_check(body[:17]),
                address_phone=f"{c.address} {c.phone}", bank_name=rng.choice(_BANKS),
                bank_account=f"{rng.randint(10**15, 10**16 - 1)}", invoice_email=f"fp{c.account_no}@example.com",
                invoice_phone=c.phone))
    Meter.objects.bulk_create(meters, batch_size=2000)
    InvoiceDetail.objects.bulk_create(invoices, batch_size=2000)
    record_bulk(customers, "create", note="demo-data")
    record_bulk(invoices, "create", note="demo-data")
    ctx.out["customers"] = customers
    return f"{len(customers)} customers, {len(meters)} meters, {len(invoices)} invoice records"
