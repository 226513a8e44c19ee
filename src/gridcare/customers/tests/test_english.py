"""The customer page in both languages: the account, contact and grid cards, and the timeline's entries from
the record's audit, work orders, outages (and their notices) and billing. English with the
`django_language=en` cookie leaves no Chinese but data: names, addresses, 台区 and feeders, the customer class
and area kind (taxonomy), order types, categories and stages, the caller's text, an outage's title/reason,
the notices' texts as sent. Needs the compiled catalogue (`gridcare compile_translations`)."""
import pytest
from django.utils.translation import override

from gridcare.analytics.tests.english_text import check_both, client_for
from gridcare.core.tests.test_english_home import caller, data_values  # noqa: F401  (fixture)
from gridcare.customers import labels
from gridcare.customers.models import CriticalKind, Customer
from gridcare.grid.models import Feeder, Substation
from gridcare.notifications.models import OutboundEvent
from gridcare.workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def page_data():
    values = data_values() + [f.name for f in Feeder.objects.all()] + [s.name for s in Substation.objects.all()]
    values += [e.body for e in OutboundEvent.objects.all()]
    for c in Customer.objects.all():
        values += [c.get_customer_class_display(), c.get_area_kind_display()]
    for o in WorkOrder.objects.all():
        values += [o.get_category_l2_display(), o.text[:60]]
    return values


def test_critical_kinds_unchanged_in_chinese():
    with override("en"):
        from django.utils.translation import gettext
        assert all(gettext(label) != label for label in CriticalKind.labels)
    assert set(CriticalKind.labels) <= set(labels.SHOWN_AS_DATA)


def test_customer_page_with_orders_and_outages(world, caller):
    url = "/customers/3100000001/"
    zh = client_for(world.agent).get(url).content.decode()
    assert "客户时间线" in zh and ">工单<" in zh and ">停电<" in zh
    html = check_both(world.agent, url, "停电通知", "Outage notice", page_data())
    assert "Customer timeline" in html and ">Work order<" in html and ">Outage<" in html
    assert caller["fault"].outage_no in html and "Fault outage" in html


def test_critical_customer(world, caller):
    c = Customer.objects.filter(critical=True).exclude(critical_kind="").first()
    url = f"/customers/{c.account_no}/"
    assert f"重要客户: {c.get_critical_kind_display()}" in client_for(world.agent).get(url).content.decode()
    check_both(world.agent, url, "重要客户",        # the kind may be part of the name (城关医院): data
               str(dict(zip(CriticalKind.values, ["Hospital", "Water supply", "Government office",
                                                  "Transport hub / station", "School", "Telecommunications",
                                                  "Other critical customer"])).get(c.critical_kind)),
               page_data())
