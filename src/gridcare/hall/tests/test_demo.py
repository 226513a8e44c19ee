"""The demo year reproduces the study's figures: payment peaks on the 10th–25th and 09:00–16:00, about
10 minutes a payment, and the counter-payment drop when payments move online (36,000 → 3,900 scaled)."""
from collections import Counter
from datetime import date

import pytest
from django.utils import timezone

from gridcare.core.demo import DemoContext, run
from gridcare.hall.models import Hall, Ticket


@pytest.mark.django_db
def test_demo_year_is_calibrated():
    ctx = DemoContext(seed=7, customers=5000, log=lambda *_: None)
    run(ctx, only={"org", "hall"})
    assert Hall.objects.count() == 3
    pay = Ticket.objects.filter(service_type="payment")
    before = pay.filter(day__gte=date(2026, 3, 1), day__lt=date(2026, 4, 1)).count()
    after = pay.filter(day__gte=date(2026, 6, 1), day__lt=date(2026, 7, 1)).count()
    assert before == pytest.approx(3600, rel=0.02) and after == pytest.approx(390, rel=0.05)
    dom, hours, durations = Counter(), Counter(), []
    for day, issued, called, finished, status in pay.values_list("day", "issued_at", "called_at", "finished_at", "status"):
        dom["peak" if 10 <= day.day <= 25 else "other"] += 1
        hours[timezone.localtime(issued).hour] += 1
        if status == "done":
            durations.append((finished - called).total_seconds())
    assert dom["peak"] > 2.5 * dom["other"]                            # 16 peak days carry most payments
    assert sum(n for h, n in hours.items() if 9 <= h < 16) > 0.75 * sum(hours.values())
    assert sum(durations) / len(durations) / 60 == pytest.approx(10, rel=0.05)
    assert Ticket.objects.filter(status="done", rating__isnull=False).exists()
    assert Ticket.objects.filter(estimated_wait_seconds__isnull=False).count() > 0.9 * Ticket.objects.count()
