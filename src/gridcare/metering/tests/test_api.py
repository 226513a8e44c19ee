"""Reads through the real HTTP stack: VEE findings held as exceptions, bad input refused, resolution."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from gridcare.grid.models import Meter
from gridcare.metering.models import MeterRead, ReadException
from gridcare.testing import ApiClient

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def meters(world):
    return (Meter.objects.create(meter_no="M0001", customer=world.cust_a, transformer_area=world.taiqu_a),
            Meter.objects.create(meter_no="M0101", customer=world.cust_b, transformer_area=world.taiqu_b))


def post(api, value, at, meter="M0001", account="3100000001", **kw):
    return api.post("/api/metering/reads", {"account_no": account, "meter_no": meter, "read_at": at.isoformat(),
                                            "value_kwh": value, **kw})


@pytest.mark.django_db
def test_reads_vee_and_bad_input(world, meters):
    api = ApiClient(world.reader)
    now = timezone.now()
    t0 = now - dt.timedelta(days=60)
    t1 = now - dt.timedelta(days=30)
    assert post(api, "1000", t0).status_code == 201
    r = post(api, "1250", t1)
    assert r.status_code == 201 and r.json()["consumption_kwh"] == "250.00" and r.json()["status"] == "valid"
    # lower than previous: stored but held as an exception
    r = post(api, "1100", now - dt.timedelta(hours=1))
    assert r.json()["status"] == "exception" and r.json()["exceptions"][0]["rule"] == "lower_than_previous"
    # refused: negative, future, meter of another account
    r = post(api, "-3", now)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "value_kwh"
    r = post(api, "1300", now + dt.timedelta(days=2))
    assert r.status_code == 400 and "未来" in r.json()["detail"]
    r = post(api, "1300", now, meter="M0101")
    assert r.status_code == 400 and "不属于" in r.json()["detail"]
    assert MeterRead.objects.count() == 3
    # a reader of another station cannot enter reads for station B's customer
    r = post(api, "5", now, meter="M0101", account="3100000101")
    assert r.status_code == 403
    # resolution needs a reason
    exc = ReadException.objects.get()
    r = api.post(f"/api/metering/exceptions/{exc.pk}/resolve", {"resolution": "reject", "reason": ""})
    assert r.status_code == 400
    r = api.post(f"/api/metering/exceptions/{exc.pk}/resolve", {"resolution": "reject", "reason": "抄错位数，已复抄"})
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    assert MeterRead.objects.get(pk=exc.read_id).status == "rejected"


@pytest.mark.django_db
def test_pages_render(world, meters, client):
    client.force_login(world.reader)
    assert client.get("/metering/").status_code == 200
    client.force_login(world.clerk)
    assert client.get("/metering/exceptions/").status_code == 200
    assert client.get("/billing/arrears/").status_code == 200
