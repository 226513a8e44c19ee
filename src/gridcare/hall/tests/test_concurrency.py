"""Two windows calling at once never get the same ticket — real concurrent transactions on PostgreSQL
(row locks + SKIP LOCKED + the conditional UPDATE). SQLite serialises writers (IMMEDIATE transactions);
its path, the conditional claim, is tested in test_api.test_claim_skips_a_ticket_another_window_took."""
import threading

import pytest
from django.db import connection

from gridcare.hall.models import Ticket, TicketEvent


@pytest.mark.django_db(transaction=True)
def test_parallel_calls_take_distinct_tickets(world, hall):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them")
    from gridcare.hall import services
    from gridcare.hall.models import Window

    for n in range(4, 9):
        Window.objects.create(hall=hall, number=n, service_types=["payment"])
    for _ in range(40):
        services.do_issue_ticket(world.clerk, "H01", "payment")
    got, errors = [], []
    barrier = threading.Barrier(6)

    def worker(number):
        try:
            barrier.wait()
            for _ in range(6):
                t = services.do_call_next(world.clerk, "H01", number)
                got.append(t.pk)
                services.do_finish(world.clerk, "H01", number)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in (2, 4, 5, 6, 7, 8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(got) == 36 and len(set(got)) == 36
    assert Ticket.objects.filter(status="done").count() == 36
    assert TicketEvent.objects.filter(kind="call").count() == 36
