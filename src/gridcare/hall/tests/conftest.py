import pytest

ALWAYS = {str(d): [["00:00", "24:00"]] for d in range(7)}


@pytest.fixture
def hall(world):
    """城关营业厅 (H01) open round the clock with three windows: 1 payment+invoice, 2 payment, 3 business."""
    from gridcare.hall import services

    return services.do_setup_hall(world.admin, "H01", [
        {"number": 1, "service_types": ["payment", "invoice"], "clerk": "clerk01"},
        {"number": 2, "service_types": ["payment"]},
        {"number": 3, "service_types": ["application", "inquiry", "complaint"]},
    ], opening_hours=ALWAYS)
