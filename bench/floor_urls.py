"""The floor of an intake on this stack, for the workorders benchmark: the same gunicorn, Django
middleware, django-ninja, token authentication and request schema as `POST /api/workorders/`, and the
same four rows written in one transaction (order, create event, audit row, after-intake queue entry),
but with the least work possible between them: one customer look-up and two raw SQL round trips, no
validation, no clock computation, no outage or escalation hooks. Its orders are numbered F… and
deleted by the benchmark after the run.

No real intake can be cheaper than this on the same stack, so its rate bounds what any amount of
work on the real intake could reach. Benchmark code; never mounted by the product."""
import json
import secrets
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.urls import path
from django.utils import timezone
from ninja import Header, NinjaAPI, Schema

from gridcare.core.api_support import TokenAuth
from gridcare.workorders.api import OrderIn
from gridcare.workorders.models import WorkOrder

api = NinjaAPI(urls_namespace="bench-floor", docs_url=None)
CONTENT_TYPE_ID = ContentType.objects.get_for_model(WorkOrder).pk


class FloorOut(Schema):
    order_no: str
    order_type: str
    stage: str
    accepted_at: str


ORDER_SQL = (
    "INSERT INTO workorders_workorder (order_no, order_type, channel, category_l1, category_l2, fault_kind, "
    "caller_name, caller_phone, area_kind, text, reply, stage, status, accepted_at, stage_entered_at, "
    "stage_limit_key, stage_due_at, stage_warn_at, sla_state, suspended, escalation, escalation_reason, urge_count, "
    "reject_count, satisfaction, visit_count, quality_flags, idempotency_key, created_by_id, customer_id, "
    "transformer_area_id, unit_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', 'accepted', 'open', %s, %s, "
    "'dispatch', %s, %s, 0, false, 0, '', 0, 0, '', 0, '[]', %s, %s, %s, %s, %s) RETURNING id")
REST_SQL = (
    "INSERT INTO workorders_stageevent (order_id, kind, from_stage, to_stage, actor_id, actor_name, at, note, data) "
    "VALUES (%s, 'create', '', 'accepted', %s, %s, %s, '受理', '{}'); "
    "INSERT INTO core_auditlog (content_type_id, object_pk, object_repr, action, actor_id, actor_username, source, "
    "at, changes) VALUES (%s, %s, %s, 'create', %s, %s, 'api', %s, %s); "
    "INSERT INTO intelligence_pendingintake (order_id, user_id) VALUES (%s, %s)")


@api.post("/workorders/", auth=TokenAuth(), response={201: FloorOut})
def create(request, payload: OrderIn, idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    user, now = request.user, timezone.now()
    with connection.cursor() as cur:
        if payload.account_no:
            cur.execute("SELECT id, unit_id, transformer_area_id, area_kind, name, phone FROM customers_customer "
                        "WHERE account_no = %s", [payload.account_no])
            customer_id, unit_id, taiqu_id, area_kind, name, phone = cur.fetchone()
        else:
            cur.execute("SELECT id, unit_id, area_kind FROM grid_transformerarea WHERE code = %s", [payload.taiqu_code])
            (taiqu_id, unit_id, area_kind), customer_id, name, phone = cur.fetchone(), None, "", ""
        order_no = "F" + secrets.token_hex(8)
        with transaction.atomic():
            cur.execute(ORDER_SQL, [order_no, payload.order_type, payload.channel, payload.category_l1 or "",
                                    payload.category_l2 or "", payload.fault_kind or "", payload.caller_name or name,
                                    payload.caller_phone or phone, area_kind, payload.text, now, now,
                                    now + timedelta(hours=24), now + timedelta(hours=18), idempotency_key, user.pk,
                                    customer_id, taiqu_id, unit_id])
            order_id = cur.fetchone()[0]
            cur.execute(REST_SQL, [order_id, user.pk, user.name, now,
                                   CONTENT_TYPE_ID, str(order_id), order_no, user.pk, user.username, now,
                                   json.dumps({"order_no": order_no, "text": payload.text}, ensure_ascii=False),
                                   order_id, user.pk])
    return 201, {"order_no": order_no, "order_type": payload.order_type, "stage": "accepted",
                 "accepted_at": now.isoformat()}


urlpatterns = [path("api/", api.urls)]
