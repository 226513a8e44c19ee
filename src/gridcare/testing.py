"""Helpers for the test suite: a small, fully-linked world and an API client with token auth."""
import json
from types import SimpleNamespace

from django.test import Client

from gridcare.accounts.models import ApiToken, OrgUnit, User
from gridcare.customers.models import Customer
from gridcare.grid.models import Feeder, Substation, TransformerArea

PASSWORD = "gridcare123"


def unit(code, name, kind, parent=None):
    return OrgUnit.objects.create(code=code, name=name, kind=kind, parent=parent)


def user(username, role, unit_obj, name=None):
    u = User(username=username, role=role, unit=unit_obj, name=name or username, phone="13800000000")
    u.set_password(PASSWORD)
    u.save()
    return u


def build_world():
    w = SimpleNamespace()
    w.province = unit("P01", "示例省电力公司", "province")
    w.city = unit("C01", "示例市供电公司", "city", w.province)
    w.city2 = unit("C02", "邻市供电公司", "city", w.province)
    w.county = unit("X01", "示例县供电公司", "county", w.city)
    w.station_a = unit("S01", "城关供电所", "station", w.county)
    w.station_b = unit("S02", "河口供电所", "station", w.county)
    w.station_other = unit("S91", "邻市供电所", "station", w.city2)
    w.hall = unit("H01", "城关营业厅", "hall", w.county)
    w.center = unit("SC1", "示例市供电服务中心", "service_center", w.city)
    w.admin = user("admin", "admin", w.province)
    w.admin.is_staff = w.admin.is_superuser = True
    w.admin.save()
    w.agent = user("agent01", "agent", w.center, "坐席小王")
    w.dispatcher = user("dispatch01", "dispatcher", w.center, "调度老李")
    w.handler_a = user("handler_a", "handler", w.station_a, "城关处理员")
    w.handler_b = user("handler_b", "handler", w.station_b, "河口处理员")
    w.handler_other = user("handler_x", "handler", w.station_other, "邻市处理员")
    w.field = user("field01", "field", w.station_a, "抢修张师傅")
    w.clerk = user("clerk01", "clerk", w.hall, "营业员小赵")
    w.reader = user("reader01", "reader", w.station_a, "抄表员")
    w.supervisor_city = user("sup_city", "supervisor", w.city, "市公司主管")
    w.supervisor_county = user("sup_county", "supervisor", w.county, "县公司主管")
    w.substation = Substation.objects.create(code="BDZ01", name="城关110kV变电站", unit=w.county)
    w.feeder1 = Feeder.objects.create(code="F001", name="城关I线", substation=w.substation, unit=w.county)
    w.feeder2 = Feeder.objects.create(code="F002", name="河口线", substation=w.substation, unit=w.county)
    w.taiqu_a = TransformerArea.objects.create(code="TQ0001", name="城关一号台区", feeder=w.feeder1, unit=w.station_a,
                                               area_kind="urban", manager=w.field, capacity_kva=400)
    w.taiqu_a2 = TransformerArea.objects.create(code="TQ0002", name="城关二号台区", feeder=w.feeder1, unit=w.station_a,
                                                area_kind="urban", capacity_kva=315)
    w.taiqu_b = TransformerArea.objects.create(code="TQ0101", name="河口村台区", feeder=w.feeder2, unit=w.station_b,
                                               area_kind="rural", capacity_kva=200)
    w.sub_other = Substation.objects.create(code="BDZ91", name="邻市变电站", unit=w.city2)
    w.feeder_other = Feeder.objects.create(code="F091", name="邻市线", substation=w.sub_other, unit=w.city2)
    w.taiqu_other = TransformerArea.objects.create(code="TQ9101", name="邻市台区", feeder=w.feeder_other,
                                                   unit=w.station_other, area_kind="urban")
    w.cust_a = Customer.objects.create(account_no="3100000001", name="张三", customer_class="residential",
                                       unit=w.station_a, transformer_area=w.taiqu_a, address="城关镇人民路1号",
                                       area_kind="urban", phone="13900000001")
    w.cust_a2 = Customer.objects.create(account_no="3100000002", name="县人民医院", customer_class="non_residential",
                                        unit=w.station_a, transformer_area=w.taiqu_a2, address="城关镇健康路8号",
                                        area_kind="urban", phone="0571-88880001", critical=True, critical_kind="hospital")
    w.cust_b = Customer.objects.create(account_no="3100000101", name="李四", customer_class="residential",
                                       unit=w.station_b, transformer_area=w.taiqu_b, address="河口村3组12号",
                                       area_kind="rural", phone="13900000101")
    w.cust_other = Customer.objects.create(account_no="3900000001", name="王五", customer_class="residential",
                                           unit=w.station_other, transformer_area=w.taiqu_other,
                                           address="邻市新街5号", area_kind="urban", phone="13900009001")
    return w


class ApiClient:
    """Real HTTP-level calls through Django's test client with a bearer token."""

    def __init__(self, user_obj):
        self.user = user_obj
        _, self.token = ApiToken.issue(user_obj, "test")
        self.client = Client()

    def _call(self, method, path, data=None, headers=None):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        for k, v in (headers or {}).items():
            kwargs["HTTP_" + k.upper().replace("-", "_")] = v
        if data is not None:
            kwargs["data"] = json.dumps(data, default=str)
            kwargs["content_type"] = "application/json"
        # Tests run inside a transaction that never commits; run the on-commit side effects (notifications,
        # task enqueues) at the end of each request, as a real commit would.
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            resp = getattr(self.client, method)(path, **kwargs)
        try:
            resp.json_body = resp.json()
        except ValueError:
            resp.json_body = None
        return resp

    def get(self, path, **kw):
        return self._call("get", path, **kw)

    def post(self, path, data=None, **kw):
        return self._call("post", path, data if data is not None else {}, **kw)

    def patch(self, path, data=None, **kw):
        return self._call("patch", path, data, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)
