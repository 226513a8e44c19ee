"""Every hall page in both languages through the real stack: Chinese by default (unchanged), English with
the `django_language=en` cookie, and then no Chinese left on the page except data (names, addresses, the
hall.yaml texts that are data: payment channels, FAQ, documents to bring). Needs the compiled catalogue
(`gridcare compile_translations`, which `make test` runs first)."""
import pytest

from gridcare.analytics.tests.english_text import check_both, client_for, leftover_han, people_and_places, strings_in
from gridcare.hall import services
from gridcare.hall.config import config

pytestmark = pytest.mark.django_db


def data_values():
    """Names and texts that come from data and stay as they are in English."""
    cfg = config()
    values = people_and_places()
    for ch in cfg["payment_channels"]:
        values += [ch["name"], ch["how"]]
    for f in cfg.get("faq", []):
        values += [f["q"], f["a"]]
    for k in cfg["applications"].values():
        values += k.get("documents", [])
    return values


def check(user, url, zh, en, whole=False, extra_data=()):
    """The page in Chinese shows `zh`; in English it shows `en` and no Chinese but data."""
    return check_both(user, url, zh, en, [*data_values(), *extra_data], whole=whole)


@pytest.fixture
def busy_hall(world, hall):
    """A served ticket (rated), one being served for a known customer, and two waiting."""
    done = services.do_issue_ticket(world.clerk, "H01", "payment")
    services.do_call_next(world.clerk, "H01", 1)
    services.do_finish(world.clerk, "H01", 1)
    services.do_rate(done.token, 5)
    services.do_issue_ticket(world.clerk, "H01", "payment", account_no="3100000001")
    services.do_call_next(world.clerk, "H01", 1)
    waiting = services.do_issue_ticket(world.clerk, "H01", "payment", priority_reason="elderly")
    services.do_issue_ticket(world.clerk, "H01", "inquiry")
    return {"done": done, "waiting": waiting}


def test_counter(world, busy_hall):
    html = check(world.clerk, "/hall/?hall=H01&w=1", "窗口工作台", "Counter")
    assert "Call next" in html and "Window 1" in html and "Bill payment" in html
    assert 'id="customer-panel"' in html                 # the customer panel is part of what is checked


def test_counter_actions_say_so_in_english(world, busy_hall):
    c = client_for(world.clerk, english=True)
    r = c.post("/hall/counter/action/", {"hall": "H01", "w": 1, "action": "finish"}, follow=True)
    html = r.content.decode()
    assert "A002 finished" in html
    r = c.post("/hall/counter/action/", {"hall": "H01", "w": 1, "action": "call"}, follow=True)
    html = r.content.decode()
    assert "Number A003 to window 1" in html
    assert leftover_han(html, data_values()) == []
    r = c.post("/hall/counter/action/", {"hall": "H01", "w": 1, "action": "nonsense"}, follow=True)
    assert "Unknown action" in r.content.decode()


def test_kiosk_and_ticket_slip(world, busy_hall):
    check(world.clerk, "/hall/H01/kiosk/", "取号", "Take a ticket")
    r = client_for(world.clerk, english=True).post("/hall/H01/kiosk/", {"service_type": "payment",
                                                                         "priority_reason": ""})
    html = r.content.decode()
    assert 'id="ticket-slip"' in html and "ahead of you" in html
    assert leftover_han(html, data_values()) == []


def test_hall_screen_and_board(world, busy_hall):
    html = check(None, "/hall/H01/display/", "叫号显示", "Now calling")
    assert "Number <b>A002</b> to window <b>1</b>" in html
    check(None, "/hall/H01/display/board/", "最近叫号", "Recent calls", whole=True)


def test_customer_ticket_pages(world, busy_hall):
    html = check(None, f"/hall/t/{busy_hall['waiting'].token}/", "前面还有", "ahead of you")
    assert "This page refreshes every 30 seconds" in html
    served = services.do_issue_ticket(world.clerk, "H01", "invoice")
    services.do_finish(world.clerk, "H01", 1)
    services.do_call_next(world.clerk, "H01", 1)                       # the elderly customer first
    services.do_finish(world.clerk, "H01", 1)
    services.do_call_next(world.clerk, "H01", 1)
    services.do_finish(world.clerk, "H01", 1)
    assert served.token
    html = check(None, f"/hall/t/{served.token}/", "请为本次服务评价", "Please rate this service")
    assert "Very satisfied" in html and "Finished" in html
    r = client_for(None, english=True).post(f"/hall/t/{served.token}/", {"score": 4}, follow=True)
    html = r.content.decode()
    assert "Thank you for your rating!" in html and "Rated, thank you for your feedback" in html
    assert leftover_han(html, data_values()) == []


def test_booking_and_appointment(world, hall):
    html = check(None, "/hall/H01/book/?service_type=application", "网上预约", "Online appointment")
    assert "left)" in html
    c = client_for(None, english=True)
    slots = services.available_slots(hall, __import__("datetime").date.fromisoformat(
        c.get("/hall/H01/book/").context["day"].isoformat()), "application")
    start = next(s["start"] for s in slots if s["bookable"])
    r = c.post("/hall/H01/book/", {"day": start.date().isoformat(), "service_type": "application",
                                    "slot_start": start.isoformat(), "name": "张三", "phone": "13900000001"})
    html = r.content.decode()
    assert "Booked:" in html
    assert leftover_han(html, data_values()) == []
    token = r.context["appt"].token
    html = check(None, f"/hall/appointments/{token}/", "取消预约", "Cancel appointment")
    assert "Applications" in html and "Booked" in html
    r = c.post(f"/hall/appointments/{token}/", follow=True)
    assert "Appointment cancelled" in r.content.decode()


def test_online_application(world, hall):
    check(None, "/hall/apply/", "业务申请", "Online hall · Application")
    r = client_for(None, english=True).post("/hall/apply/", {
        "kind": "name_change", "applicant_name": "张三", "phone": "13900000001", "account_no": "3100000001",
        "hall_code": "H01", "address": "城关镇人民路1号", "area_kind": "urban", "detail": "过户"})
    html = r.content.decode()
    assert "Application accepted, work order" in html
    assert leftover_han(html, [*data_values(), "过户"]) == []


def test_self_service(world, hall):
    check(None, "/hall/self/", "客户自助服务", "Customer self-service")
    c = client_for(None, english=True)
    r = c.post("/hall/self/", {"account_no": "3100000001", "phone": "13900000001"}, follow=True)
    html = r.content.decode()
    assert "Ways to pay" in html and "Usage and bills" in html
    data = r.context["data"]                       # the customer's own data: masked name, outages, FAQ
    assert leftover_han(html, [*data_values(), *strings_in(data), *map(str, data["outages"])]) == []


def test_supervisor_pages(world, busy_hall):
    sup = world.supervisor_county
    html = check(sup, "/hall/H01/plan/", "窗口排班计划", "Window staffing plan")
    assert "Erlang C model" in html
    html = check(sup, "/hall/H01/traffic/", "客流分析", "Customer traffic")
    assert "visits over" in html
    check(sup, "/hall/H01/quality/", "服务质量", "Service quality")
    services.do_record_inspection(sup, "H01", "clerk01", {"attire": True, "etiquette": False, "language": True, "accuracy": True, "desk": True}, "")
    html = check(sup, "/hall/clerks/clerk01/", "涉及本人的95598投诉", "95598 complaints about this clerk")
    assert "Record inspection" in html and "Attire (uniform, name badge)" in html


def test_chart_titles_in_english(world, busy_hall):
    html = client_for(world.supervisor_county, english=True).get("/hall/H01/traffic/").content.decode()
    assert '"Average arrivals per hour of day"' in html and '"Average arrivals per day of month"' in html
