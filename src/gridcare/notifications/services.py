from django.db import IntegrityError, transaction

from .models import Notification


def notify(users, kind: str, title: str, body: str = "", url: str = "", dedupe: str | None = None) -> int:
    """Create one in-app notification per user; with `dedupe`, a second call for the same
    (dedupe, user) is a no-op, so sweeps can run twice safely."""
    created = 0
    for user in {u.pk: u for u in users if u is not None}.values():
        key = f"{dedupe}:{user.pk}"[:120] if dedupe else None
        try:
            with transaction.atomic():
                Notification.objects.create(user=user, kind=kind, title=title[:200], body=body, url=url, dedupe_key=key)
            created += 1
        except IntegrityError:
            continue
    return created
