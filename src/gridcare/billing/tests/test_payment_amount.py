"""A payment amount is a plain decimal in yuan with at most two decimals: exponent notation ("1e3", or the JSON
number 1e3) is refused with a Chinese message on the `amount` field, never read as 1000.00."""
import pytest

from gridcare.billing.models import Payment
from gridcare.testing import ApiClient


def pay(api, amount):
    return api.post("/api/billing/payments", {"account_no": "3100000001", "channel": "wechat", "amount": amount})


def pay_raw(api, amount_literal: str):
    body = '{"account_no": "3100000001", "channel": "wechat", "amount": %s}' % amount_literal
    return api.client.post("/api/billing/payments", data=body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {api.token}")


def amount_error(r) -> str:
    assert r.status_code == 400, r.content
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert list(errors) == ["amount"]
    return errors["amount"]


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["1e3", "1E3", "1.5e2", "1e+3", " 1e3 "])
def test_exponent_notation_is_refused(world, amount):
    api = ApiClient(world.reader)
    assert "不接受科学计数法" in amount_error(pay(api, amount))
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_a_json_number_is_judged_as_written(world):
    api = ApiClient(world.reader)
    assert "不接受科学计数法" in amount_error(pay_raw(api, "1e3"))
    assert "两位小数" in amount_error(pay_raw(api, "100.001"))
    r = pay_raw(api, "100.5")
    assert r.status_code == 201 and r.json()["amount"] == "100.50"
    r = pay_raw(api, "20")
    assert r.status_code == 201 and r.json()["amount"] == "20.00"


@pytest.mark.django_db
@pytest.mark.parametrize("amount,message", [("1000.001", "两位小数"), ("0x10", "不是数字"), ("1,000", "不是数字"),
                                            ("Infinity", "不是数字"), ("NaN", "不是数字"), (".5", "不是数字"),
                                            ("-5", "正数"), ("0", "正数"), ("", "不是数字"), ("１０００", "不是数字"),
                                            ("1" + "0" * 30, "金额过大")])
def test_other_bad_amounts(world, amount, message):
    assert message in amount_error(pay(ApiClient(world.reader), amount))


@pytest.mark.django_db
def test_plain_amounts_are_accepted(world):
    api = ApiClient(world.reader)
    for amount, stored in (("1000", "1000.00"), ("1000.5", "1000.50"), ("1000.50", "1000.50"), (" 12.30 ", "12.30")):
        r = pay(api, amount)
        assert r.status_code == 201, r.content
        assert r.json()["amount"] == stored
    assert Payment.objects.count() == 4
