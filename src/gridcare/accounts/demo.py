"""Demo organisation: 江南省 → 安和市 → one urban district company and two rural counties, with
供电所, 营业厅, 班组, the city's 供电服务中心, and staff in every role."""
from gridcare.core.demo import DEMO_PASSWORD, register_step

from .models import OrgUnit, User

# (code, name, kind, parent, area profile of its customers: share, area mix)
COUNTIES = [
    ("AH01", "安和市城区供电分公司", [
        ("AH0101", "城东供电所", 0.15, {"urban": 1.0}),
        ("AH0102", "城西供电所", 0.14, {"urban": 1.0}),
        ("AH0103", "城南供电所", 0.10, {"urban": 0.85, "rural": 0.15}),
    ]),
    ("AH02", "青溪县供电公司", [
        ("AH0201", "青溪镇供电所", 0.12, {"urban": 0.5, "rural": 0.5}),
        ("AH0202", "石桥供电所", 0.11, {"rural": 1.0}),
        ("AH0203", "白沙供电所", 0.10, {"rural": 1.0}),
        ("AH0204", "云岭供电所", 0.06, {"rural": 0.35, "remote": 0.65}),
    ]),
    ("AH03", "临川县供电公司", [
        ("AH0301", "临川镇供电所", 0.09, {"urban": 0.45, "rural": 0.55}),
        ("AH0302", "桃源供电所", 0.07, {"rural": 1.0}),
        ("AH0303", "河湾供电所", 0.06, {"rural": 1.0}),
    ]),
]

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕红梅玉兰晓东文斌春梅小红丽娟宏伟俊杰子涵欣怡浩然梓萱"


def person_name(rng) -> str:
    given = _GIVEN
    n = rng.choice((1, 2, 2))
    return rng.choice(_SURNAMES) + "".join(rng.choice(given) for _ in range(n))


def _user(username, name, role, unit, phone, staff=False):
    u = User(username=username, name=name, role=role, unit=unit, phone=phone, is_staff=staff, is_superuser=staff)
    return u


@register_step(10, "org")
def build_org(ctx):
    rng = ctx.rng
    province = OrgUnit.objects.create(code="JN", name="江南省电力有限公司", kind="province")
    city = OrgUnit.objects.create(code="AH", name="国网安和市供电公司", kind="city", parent=province)
    center = OrgUnit.objects.create(code="AHSC", name="安和市供电服务中心", kind="service_center", parent=city)
    stations, halls, counties = [], [], []
    for ccode, cname, station_defs in COUNTIES:
        county = OrgUnit.objects.create(code=ccode, name=cname, kind="county", parent=city)
        counties.append(county)
        for scode, sname, share, mix in station_defs:
            st = OrgUnit.objects.create(code=scode, name=sname, kind="station", parent=county)
            stations.append((st, share, mix))
        halls.append(OrgUnit.objects.create(code=f"{ccode}H1", name=cname.replace("供电公司", "").replace(
            "供电分公司", "") + "营业厅", kind="hall", parent=county))
        OrgUnit.objects.create(code=f"{ccode}T1", name=cname.replace("供电公司", "").replace("供电分公司", "") + "抢修班",
                               kind="team", parent=county)

    seq = {"phone": 0}

    def phone():
        seq["phone"] += 1
        return f"139{ctx.seed % 100:02d}{seq['phone']:06d}"[:11]

    users = [_user("admin", "系统管理员", "admin", province, phone(), staff=True),
             _user("sup_city", "陈主任", "supervisor", city, phone()),
             _user("sup_center", "周主任", "supervisor", center, phone())]
    users += [_user(f"agent{i:02d}", person_name(rng), "agent", center, phone()) for i in range(1, 11)]
    users += [_user(f"dispatch{i:02d}", person_name(rng), "dispatcher", center, phone()) for i in range(1, 5)]
    for i, county in enumerate(counties, 1):
        users.append(_user(f"sup_county{i:02d}", person_name(rng), "supervisor", county, phone()))
    counters = {"handler": 0, "field": 0, "reader": 0, "sup_station": 0, "clerk": 0}

    def nxt(kind):
        counters[kind] += 1
        return counters[kind]

    for st, _share, _mix in stations:
        users.append(_user(f"sup_station{nxt('sup_station'):02d}", person_name(rng), "supervisor", st, phone()))
        users += [_user(f"handler{nxt('handler'):02d}", person_name(rng), "handler", st, phone()) for _ in range(2)]
        users += [_user(f"field{nxt('field'):02d}", person_name(rng), "field", st, phone()) for _ in range(3)]
        users += [_user(f"reader{nxt('reader'):02d}", person_name(rng), "reader", st, phone()) for _ in range(2)]
    for hall in halls:
        users += [_user(f"clerk{nxt('clerk'):02d}", person_name(rng), "clerk", hall, phone()) for _ in range(3)]
    # One hash for every demo account: PBKDF2 on ~100 users would dominate the demo's start-up time.
    from django.contrib.auth.hashers import make_password

    pw = make_password(DEMO_PASSWORD)
    for u in users:
        u.password = pw
    User.objects.bulk_create(users)
    from gridcare.core.audit import record_bulk

    record_bulk(User.objects.all(), "create", note="demo-data")
    # unit heads
    heads = {u.unit_id: u for u in User.objects.filter(role="supervisor")}
    for unit in OrgUnit.objects.all():
        if unit.pk in heads:
            unit.head = heads[unit.pk]
            unit.save()
    ctx.out.update(province=province, city=city, center=center, counties=counties, stations=stations, halls=halls)
    return f"{OrgUnit.objects.count()} units, {User.objects.count()} users"
