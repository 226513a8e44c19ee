"""Role AND unit subtree: a 供电所 handler sees its own customers only, a 市公司 supervisor the whole city,
service-centre staff their company, and nobody sees another city's data."""
import pytest

from gridcare.accounts.permissions import can, scope_path, scoped
from gridcare.customers.models import Customer
from gridcare.testing import ApiClient


def visible(user):
    return set(scoped(Customer.objects.all(), user).values_list("account_no", flat=True))


def test_scopes(world):
    assert visible(world.handler_a) == {"3100000001", "3100000002"}
    assert visible(world.handler_b) == {"3100000101"}
    assert visible(world.supervisor_county) == {"3100000001", "3100000002", "3100000101"}
    assert visible(world.supervisor_city) == visible(world.supervisor_county)
    assert visible(world.agent) == visible(world.supervisor_city)  # 服务中心 serves its city
    assert "3900000001" not in visible(world.agent)
    assert "3900000001" in visible(world.admin)
    assert scope_path(world.admin) == "/"


def test_roles(world):
    assert can(world.agent, "workorder.create")
    assert not can(world.agent, "customer.edit")
    assert not can(world.handler_a, "audit.view")
    assert can(world.supervisor_city, "audit.view")


@pytest.mark.parametrize("username,account,status", [
    ("handler_a", "3100000001", 200),
    ("handler_a", "3100000101", 403),   # the other 供电所's customer
    ("handler_b", "3100000001", 403),
    ("handler_x", "3100000001", 403),   # another city
    ("sup_city", "3100000101", 200),
    ("sup_city", "3900000001", 403),
    ("agent01", "3100000101", 200),
])
def test_customer_read_over_http(world, username, account, status):
    from gridcare.accounts.models import User

    resp = ApiClient(User.objects.get(username=username)).get(f"/api/customers/{account}")
    assert resp.status_code == status, resp.content
    if status == 403:
        assert "管辖范围" in resp.json()["detail"]


def test_search_never_leaks_other_units(world):
    resp = ApiClient(world.handler_a).get("/api/customers/?q=3100000")
    assert {r["account_no"] for r in resp.json()} == {"3100000001", "3100000002"}
    resp = ApiClient(world.handler_a).get("/api/customers/?q=李四")
    assert resp.json() == []


def test_unauthenticated_api_is_refused(client, world):
    assert client.get("/api/customers/3100000001").status_code == 401
    resp = client.get("/api/customers/3100000001", HTTP_AUTHORIZATION="Bearer nope")
    assert resp.status_code == 401


def test_pages_respect_scope(client, world):
    client.force_login(world.handler_b)
    assert client.get("/customers/3100000101/").status_code == 200
    assert client.get("/customers/3100000001/").status_code == 403
