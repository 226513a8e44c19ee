"""The demo's outages step: besides the year of history, the board has something live to show — among
it a 疑似线路故障 alert opened by three fault calls taken through the real intake just now."""
import pytest

from gridcare.core.demo import DemoContext, run
from gridcare.notifications.models import Notification
from gridcare.outages.models import FeederFaultAlert
from gridcare.workorders.models import WorkOrder


@pytest.mark.django_db
def test_demo_opens_a_live_feeder_fault_alert_from_real_intakes(django_capture_on_commit_callbacks):
    ctx = DemoContext(seed=7, customers=3000, orders=600, log=lambda *_: None)
    with django_capture_on_commit_callbacks(execute=True):  # the dispatchers' notice is sent after commit
        run(ctx, only={"org", "grid", "customers", "workorders", "outages"})
    alert = FeederFaultAlert.objects.select_related("feeder").get(open=True)
    assert alert.calls == 3 and alert.taiqu_count == 2 and len(alert.taiqu_ids) == 2
    calls = WorkOrder.objects.filter(order_no__in=alert.order_nos)
    assert calls.count() == 3 and {o.transformer_area.feeder_id for o in calls} == {alert.feeder_id}
    assert all(o.events.filter(kind="create").exists() for o in calls)  # taken through the intake service
    title = f"疑似线路故障：{alert.feeder.name}"
    assert Notification.objects.filter(kind="feeder_fault", title=title).exists()
