"""Background work for the work-order engine, on the Django Tasks queue: the SLA sweep (every
minute) and the weekly sensitive-customer scan. Both are bounded per run and safe to run twice."""
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django_tasks import task

from gridcare.core.scheduler import register as schedule
from gridcare.notifications.models import Notification

from .choices import EventKind, SlaState, Status
from .models import StageEvent, WorkOrder


def _leaders_by_unit(unit_ids):
    """unit pk → the users a sweep notice goes to: its supervisors and its head (the nearest ancestor's when
    the unit has none)."""
    from gridcare.accounts.models import OrgUnit, User

    units = list(OrgUnit.objects.filter(pk__in=unit_ids))
    supervisors = {}
    for u in User.objects.filter(unit_id__in=unit_ids, role="supervisor", is_active=True):
        supervisors.setdefault(u.unit_id, set()).add(u.pk)
    heads = OrgUnit.nearest_head_ids(units)
    return {u.pk: supervisors.get(u.pk, set()) | ({heads[u.pk]} if heads[u.pk] else set()) for u in units}


def sweep_sla(now=None, batch: int = 5000) -> dict:
    """Mark orders past their warning time (即将超时) and past their deadline (已超时), write an SLA
    event, and notify the assignee, the unit's supervisors and its head (the nearest ancestor's when the
    unit has none). A suspended order whose clock was paused in time has no deadline and is not swept.
    Each order is marked once per state (the UPDATE only touches rows still below that state), so two
    sweeps never notify twice."""
    now = now or timezone.now()
    result = {}
    for state, field, label in ((SlaState.OVERDUE, "stage_due_at", "已超时"),
                                (SlaState.WARNING, "stage_warn_at", "即将超时")):
        with transaction.atomic():
            qs = WorkOrder.objects.filter(**{f"{field}__lte": now}, sla_state__lt=state, status=Status.OPEN)
            if state == SlaState.WARNING:
                # an order already past its deadline is not "about to be late": when more are overdue
                # than one batch takes, the rest wait for the next run as overdue, not as a warning
                qs = qs.filter(stage_due_at__gt=now)
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True)
            rows = list(qs.order_by(field).values("pk", "order_no", "unit_id", "assignee_id", "stage",
                                                  "stage_limit_key", "stage_due_at")[:batch])
            if not rows:
                result[label] = 0
                continue
            ids = [r["pk"] for r in rows]
            WorkOrder.objects.filter(pk__in=ids, sla_state__lt=state).update(sla_state=state)
            StageEvent.objects.bulk_create([
                StageEvent(order_id=r["pk"], kind=EventKind.SLA, at=now, actor_name="系统",
                           note=f"{label}：{r['stage_limit_key']} 时限 {timezone.localtime(r['stage_due_at']):%Y-%m-%d %H:%M}",
                           from_stage=r["stage"], to_stage=r["stage"], data={"state": int(state)})
                for r in rows], batch_size=2000)
            leaders = _leaders_by_unit({r["unit_id"] for r in rows})
            notes = []
            for r in rows:
                users = set(leaders.get(r["unit_id"], set()))
                if r["assignee_id"]:
                    users.add(r["assignee_id"])
                for uid in users:
                    notes.append(Notification(
                        user_id=uid, kind="sla_overdue" if state == SlaState.OVERDUE else "sla_warning",
                        title=f"工单 {r['order_no']} {label}", url=f"/workorders/{r['order_no']}/",
                        body=f"当前环节时限 {timezone.localtime(r['stage_due_at']):%Y-%m-%d %H:%M}",
                        dedupe_key=f"sla:{r['pk']}:{r['stage_limit_key']}:{int(state)}:{uid}"[:120]))
            Notification.objects.bulk_create(notes, batch_size=2000, ignore_conflicts=True)
            result[label] = len(rows)
    return result


SCAN_CHUNK = 500


def scan_sensitive(as_of=None) -> dict:
    """Weekly: customers who called 95598 twice or more in the window, and customers with several
    orders about the same problem, are flagged sensitive (with reason and expiry); flags set by an
    earlier scan that have expired are cleared."""
    from django.db.models import Count

    from gridcare.customers.models import Customer

    from .services import rule

    as_of = as_of or timezone.now()
    flagged = {}
    r = rule("sensitive_repeat_callers")
    if r:
        since = as_of - timedelta(days=r.get("window_days", 30))
        qs = WorkOrder.objects.filter(customer__isnull=False, accepted_at__gte=since, accepted_at__lte=as_of)
        if r.get("channels"):
            qs = qs.filter(channel__in=r["channels"])
        for row in qs.values("customer_id").annotate(n=Count("id")).filter(n__gte=r.get("min_orders", 2)):
            flagged[row["customer_id"]] = (f"近{r.get('window_days', 30)}天内拨打95598 {row['n']} 次",
                                           r.get("expiry_days", 90))
    r = rule("sensitive_same_problem")
    if r:
        since = as_of - timedelta(days=r.get("window_days", 60))
        qs = (WorkOrder.objects.filter(customer__isnull=False, accepted_at__gte=since, accepted_at__lte=as_of)
              .values("customer_id", "order_type", "category_l2", "fault_kind").annotate(n=Count("id"))
              .filter(n__gte=r.get("min_orders", 2)))
        for row in qs:
            if row["customer_id"] not in flagged:
                what = row["category_l2"] or row["fault_kind"] or row["order_type"]
                flagged[row["customer_id"]] = (f"近{r.get('window_days', 60)}天内同一问题（{what}）{row['n']} 张工单",
                                               r.get("expiry_days", 90))
    # Only the three flag columns are written (an agent may be editing the customer's phone meanwhile),
    # in chunks, so a large utility's scan holds neither all customers in memory nor long locks.
    flag_fields = ["sensitive", "sensitive_reason", "sensitive_until"]
    updated = 0
    ids = sorted(flagged)
    for start in range(0, len(ids), SCAN_CHUNK):
        for customer in Customer.objects.filter(pk__in=ids[start:start + SCAN_CHUNK]).order_by("pk"):
            reason, days = flagged[customer.pk]
            if customer.sensitive and customer.sensitive_until is None:
                continue  # a flag set by hand stays as it was
            customer.sensitive, customer.sensitive_reason = True, reason[:200]
            customer.sensitive_until = as_of + timedelta(days=days)
            customer.save(update_fields=flag_fields)
            updated += 1
    cleared = 0
    # the ids first: SQLite gives no isolation between a running SELECT and writes to the same table
    expired = list(Customer.objects.filter(sensitive=True, sensitive_until__lt=as_of)
                   .order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(expired), SCAN_CHUNK):
        for customer in Customer.objects.filter(pk__in=expired[start:start + SCAN_CHUNK]).order_by("pk"):
            customer.sensitive, customer.sensitive_reason, customer.sensitive_until = False, "", None
            customer.save(update_fields=flag_fields)
            cleared += 1
    return {"flagged": updated, "cleared": cleared}


@task()
def sla_sweep_task():
    return {k: v for k, v in sweep_sla().items()}


@task()
def sensitive_scan_task():
    return scan_sensitive()


schedule("workorders.sla_sweep", 60, "gridcare.workorders.tasks.sla_sweep_task")
schedule("workorders.sensitive_scan", 7 * 24 * 3600, "gridcare.workorders.tasks.sensitive_scan_task", at="02:30",
         weekday=0)  # Monday night, flags ready for the week
