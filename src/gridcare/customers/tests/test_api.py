from gridcare.core.models import AuditLog
from gridcare.customers.models import Customer
from gridcare.testing import ApiClient

NEW = {"account_no": "3100000009", "name": "赵六", "customer_class": "residential", "unit_code": "S01",
       "taiqu_code": "TQ0001", "address": "城关镇新华路9号", "area_kind": "urban", "phone": "13700000009"}


def test_create_customer_with_invoice_and_audit(world):
    api = ApiClient(world.supervisor_county)
    body = dict(NEW, invoice={"tax_id": "91330100MA27XY812G", "invoice_email": "a@example.com"})
    # a valid credit code is required: compute one
    from gridcare.customers.validators import credit_code_with_check
    body["invoice"]["tax_id"] = credit_code_with_check("91330100MA27XY812")
    resp = api.post("/api/customers/", body)
    assert resp.status_code == 201, resp.content
    assert resp.json()["invoice"]["tax_id"] == body["invoice"]["tax_id"]
    trail = api.get("/api/customers/3100000009/audit").json()
    assert {t["action"] for t in trail} == {"create"} and trail[0]["actor"] == "sup_county"


def test_bad_fields_get_chinese_field_errors_and_nothing_written(world):
    api = ApiClient(world.supervisor_county)
    body = dict(NEW, phone="12345", unit_code="NOPE", customer_class="alien", invoice={"tax_id": "123"})
    resp = api.post("/api/customers/", body)
    assert resp.status_code == 400
    errors = {e["field"]: e["message"] for e in resp.json()["errors"]}
    assert "电话号码格式不正确" in errors["phone"]
    assert errors["unit_code"] == "单位编码不存在"
    assert "customer_class" in errors and "tax_id" in errors
    assert not Customer.objects.filter(account_no="3100000009").exists()


def test_duplicate_account_number(world):
    resp = ApiClient(world.supervisor_county).post("/api/customers/", dict(NEW, account_no="3100000001"))
    assert resp.status_code == 400
    assert {e["field"]: e["message"] for e in resp.json()["errors"]}["account_no"] == "户号已存在"


def test_malformed_payload_is_422_with_field(world):
    resp = ApiClient(world.supervisor_county).post("/api/customers/", {"name": "缺字段"})
    assert resp.status_code == 422
    fields = {e["field"]: e["message"] for e in resp.json()["errors"]}
    assert fields["account_no"] == "必填字段"


def test_patch_records_before_after(world):
    api = ApiClient(world.supervisor_county)
    resp = api.patch("/api/customers/3100000001", {"phone": "13811112222"})
    assert resp.status_code == 200 and resp.json()["phone"] == "13811112222"
    log = AuditLog.objects.filter(object_pk=str(world.cust_a.pk), action="update").latest("id")
    assert log.changes["phone"] == ["13900000001", "13811112222"] and log.source == "api"


def test_handler_cannot_edit_and_agent_cannot_create(world):
    assert ApiClient(world.handler_a).patch("/api/customers/3100000001", {"phone": "13811112222"}).status_code == 403
    assert ApiClient(world.agent).post("/api/customers/", NEW).status_code == 403


def test_customer_page_shows_grid_position_and_timeline(client, world):
    client.force_login(world.agent)
    body = client.get("/customers/3100000002/").content.decode()
    assert "县人民医院" in body and "城关I线" in body and "城关110kV变电站" in body and "重要客户" in body
    assert "客户时间线" in body
