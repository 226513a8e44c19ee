from django.contrib.contenttypes.models import ContentType
from ninja import Router

from gridcare.accounts.permissions import require

from .models import AuditLog
from .schemas import AuditOut

router = Router(tags=["审计"])


@router.get("/", response=list[AuditOut])
def list_audit(request, model: str | None = None, object_pk: str | None = None, limit: int = 100):
    """The audit trail (supervisors and administrators); filter by `model` (e.g. customers.customer)."""
    require(request.user, "audit.view")
    qs = AuditLog.objects.all()
    if model and "." in model:
        app_label, name = model.lower().split(".", 1)
        ct = ContentType.objects.filter(app_label=app_label, model=name).first()
        qs = qs.filter(content_type=ct) if ct else qs.none()
    if object_pk:
        qs = qs.filter(object_pk=object_pk)
    return [AuditOut.from_log(log) for log in qs[: min(limit, 1000)]]
