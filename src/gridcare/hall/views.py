"""Hall pages: the clerk's counter, the ticket machine, the hall screen (live via htmx polling), the
customer's ticket page (QR/SMS link, rating), online appointments and applications, self-service, and
the supervisor's staffing plan, traffic, quality and clerk pages. Thin: parse, call a service, render."""
from datetime import date, datetime, timedelta

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gridcare.accounts.permissions import can, require
from gridcare.core.api_support import DomainError

from . import selfservice, services
from .config import checklist, config, priorities, service_types
from .models import Hall, Window


def _errors(exc: DomainError) -> str:
    return "；".join(str(v) for v in exc.errors.values())


def _hall_or_404(code):
    """A page for a hall code that does not exist (or has no queue) is a 404, not a server error."""
    try:
        return services.get_hall(code)
    except DomainError as exc:
        raise Http404(_errors(exc)) from None


def _user_hall(request):
    code = request.GET.get("hall") or request.POST.get("hall")
    if code:
        return services.get_hall(code)
    unit = request.user.unit
    hall = Hall.objects.select_related("unit", "unit__parent").filter(unit=unit).first() if unit else None
    if hall is None:
        hall = Hall.objects.select_related("unit", "unit__parent").filter(
            unit__path__startswith=unit.path if unit else "/").first()
    if hall is None:
        raise DomainError({"hall": _("您所在单位没有启用排队的营业厅")})
    return hall


# ---------------------------------------------------------------- counter
@login_required
def counter(request):
    require(request.user, "hall.serve")
    try:
        hall = _user_hall(request)
    except DomainError as exc:
        return render(request, "hall/counter.html", {"error": _errors(exc)})
    require(request.user, "hall.serve", hall.unit)
    windows = list(Window.objects.filter(hall=hall).select_related("current_ticket", "clerk").order_by("number"))
    wanted = request.GET.get("w") or request.session.get("hall_window")
    window = next((w for w in windows if str(w.number) == str(wanted)), None) or next(
        (w for w in windows if w.clerk_id == request.user.pk), None) or (windows[0] if windows else None)
    if window:
        request.session["hall_window"] = window.number
    ctx = None
    if window and window.current_ticket_id and window.current_ticket.customer_id:
        ctx = services.counter_context(request.user, window.current_ticket.customer)
    return render(request, "hall/counter.html", {
        "hall": hall, "windows": windows, "window": window, "ticket": window.current_ticket if window else None,
        "ctx": ctx, "queue": services.queue_state(hall), "types": service_types(),
        "identified": request.session.pop("hall_candidates", None),
        "can_plan": can(request.user, "hall.manage")})


@login_required
@require_POST
def counter_action(request):
    hall = _user_hall(request)
    number = int(request.POST.get("w") or 0)
    kind = request.POST.get("action")
    user, base = request.user, request.build_absolute_uri("/")
    try:
        if kind == "call":
            t = services.do_call_next(user, hall.code, number)
            messages.success(request, _("请 %(number)s 号到 %(window)s 号窗口办理") % {"number": t.number, "window": number})
        elif kind == "recall":
            t = services.do_recall(user, hall.code, number)
            messages.info(request, _("已重呼 %(number)s") % {"number": t.number})
        elif kind == "finish":
            t = services.do_finish(user, hall.code, number, base_url=base)
            messages.success(request, _("%(number)s 已办结") % {"number": t.number})
        elif kind == "no_show":
            t = services.do_no_show(user, hall.code, number)
            messages.warning(request, _("%(number)s 过号") % {"number": t.number})
        elif kind == "transfer":
            to_window = request.POST.get("to_window")
            t = services.do_transfer(user, hall.code, number, request.POST.get("service_type") or None,
                                     int(to_window) if to_window else None)
            messages.info(request, _("%(number)s 已转办") % {"number": t.number})
        elif kind == "identify":
            ctx = services.do_identify(user, hall.code, number, request.POST.get("q", ""))
            if ctx["customer"] is None:
                request.session["hall_candidates"] = [(c.account_no, c.name, c.address) for c in ctx["candidates"]]
            else:
                messages.success(request, _("已识别客户 %(customer)s") % {"customer": ctx["customer"]})
        elif kind == "window":
            services.do_set_window(user, hall.code, number, is_open=bool(request.POST.get("is_open")),
                                   service_types=request.POST.getlist("service_types"), clerk=user.username)
            messages.success(request, _("窗口设置已保存"))
        else:
            raise DomainError({"action": _("未知操作")})
    except DomainError as exc:
        messages.error(request, _errors(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("无权执行该操作"))
    return redirect(f"{reverse('hall:counter')}?hall={hall.code}&w={number}")


# ---------------------------------------------------------------- ticket machine
@login_required
def kiosk(request, code):
    hall = _hall_or_404(code)
    require(request.user, "hall.serve", hall.unit)
    ticket, error = None, ""
    if request.method == "POST":
        try:
            ticket = services.do_issue_ticket(request.user, code, request.POST.get("service_type", ""),
                                              request.POST.get("priority_reason", ""), request.POST.get("phone", ""),
                                              request.POST.get("account_no", ""),
                                              request.POST.get("appointment_token", ""),
                                              base_url=request.build_absolute_uri("/"))
        except DomainError as exc:
            error = _errors(exc)
    reasons = {k: v for k, v in priorities().items() if k not in ("appointment", "transfer")}
    return render(request, "hall/kiosk.html", {"hall": hall, "types": service_types(), "reasons": reasons,
                                               "ticket": ticket, "error": error, "queue": services.queue_state(hall)})


# ---------------------------------------------------------------- hall screen (public)
def display(request, code):
    hall = _hall_or_404(code)
    return render(request, "hall/display.html", {**services.display_data(hall), "poll_ms": 500})


def display_board(request, code):
    hall = _hall_or_404(code)
    return render(request, "hall/_board.html", services.display_data(hall))


# ---------------------------------------------------------------- the customer's ticket (public)
def _ticket_or_404(token):
    """A status page or QR code for a token that does not exist is a 404 saying so, not a server error."""
    try:
        return services.ticket_for_token(token)
    except DomainError as exc:
        raise Http404(_errors(exc)) from None


def ticket(request, token):
    try:
        t = services.ticket_for_token(token)
    except DomainError as exc:
        return render(request, "hall/ticket.html", {"missing": _errors(exc)}, status=404)
    error = ""
    if request.method == "POST":
        try:
            services.do_rate(token, int(request.POST.get("score") or 0), request.POST.get("comment", ""),
                             request.POST.get("channel") or "sms")
            messages.success(request, _("感谢您的评价！"))
            return redirect("hall:ticket", token=token)
        except (DomainError, ValueError) as exc:
            error = _errors(exc) if isinstance(exc, DomainError) else _("评价须为1到5分")
    return render(request, "hall/ticket.html", {"t": t, "s": services.ticket_status(t), "error": error,
                                                "labels": config()["rating_labels"]})


def ticket_qr(request, token):
    t = _ticket_or_404(token)
    qr = segno.make(request.build_absolute_uri(reverse("hall:ticket", args=[t.token])), error="m")
    import io

    buf = io.BytesIO()
    qr.save(buf, kind="svg", scale=4, border=2)
    return HttpResponse(buf.getvalue(), content_type="image/svg+xml")


# ---------------------------------------------------------------- appointments and applications (public)
def book(request, code):
    hall = _hall_or_404(code)
    today = services.local(timezone.now()).date()
    try:
        day = date.fromisoformat(request.GET.get("day") or request.POST.get("day") or "") 
    except ValueError:
        day = today + timedelta(days=1)
    stype = request.GET.get("service_type") or request.POST.get("service_type") or "application"
    appt, error = None, ""
    if request.method == "POST":
        try:
            start = datetime.fromisoformat(request.POST.get("slot_start", ""))
        except ValueError:
            start = None
        try:
            appt = services.do_book(code, stype, start, request.POST.get("name", ""), request.POST.get("phone", ""),
                                    request.POST.get("account_no", ""), base_url=request.build_absolute_uri("/"))
        except DomainError as exc:
            error = _errors(exc)
    slots = services.available_slots(hall, day, stype) if stype in service_types() else []
    return render(request, "hall/book.html", {"hall": hall, "day": day, "stype": stype, "types": service_types(),
                                              "slots": slots, "appt": appt, "error": error})


def appointment(request, token):
    from .models import Appointment

    appt = Appointment.objects.select_related("hall__unit").filter(token=token).first()
    if appt is None:
        return render(request, "hall/appointment.html", {"error": _("预约不存在")}, status=404)
    if request.method == "POST":
        try:
            appt = services.do_cancel_appointment(token)
            messages.success(request, _("预约已取消"))
        except DomainError as exc:
            messages.error(request, _errors(exc))
    return render(request, "hall/appointment.html", {"appt": appt})


def apply(request):
    application, error, data = None, "", {}
    if request.method == "POST":
        data = {k: request.POST.get(k, "").strip() for k in ("kind", "applicant_name", "phone", "account_no",
                                                            "hall_code", "address", "area_kind", "detail")}
        try:
            application = services.do_start_application(None, data, "web")
        except DomainError as exc:
            error = _errors(exc)
    return render(request, "hall/apply.html", {"application": application, "error": error, "data": data,
                                               "kinds": config()["applications"],
                                               "halls": Hall.objects.select_related("unit").order_by("unit__code")})


def self_service(request):
    error, data = "", None
    token = request.session.get("hall_self")
    if request.method == "POST":
        try:
            customer = selfservice.verify(request.POST.get("account_no", ""), request.POST.get("phone", ""))
            request.session["hall_self"] = selfservice.sign(customer)
            return redirect("hall:self")
        except DomainError as exc:
            error = _errors(exc)
    elif request.GET.get("logout"):
        request.session.pop("hall_self", None)
        return redirect("hall:self")
    elif token:
        customer = selfservice.from_token(token)
        if customer is not None:
            data = selfservice.summary(customer)
    return render(request, "hall/self.html", {"error": error, "data": data})


# ---------------------------------------------------------------- supervisors
def _period(request):
    today = services.local(timezone.now()).date()
    try:
        until = date.fromisoformat(request.GET["until"]) if request.GET.get("until") else today + timedelta(days=1)
        since = date.fromisoformat(request.GET["since"]) if request.GET.get("since") else until - timedelta(days=30)
    except ValueError:
        since, until = today - timedelta(days=29), today + timedelta(days=1)
    tz = timezone.get_current_timezone()
    return (datetime.combine(since, datetime.min.time(), tzinfo=tz),
            datetime.combine(until, datetime.min.time(), tzinfo=tz), since, until)


@login_required
def plan(request, code):
    try:
        day = date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = services.local(timezone.now()).date() + timedelta(days=1)
    try:
        share = min(1.0, max(0.0, float(request.GET.get("online_share") or 0)))
    except ValueError:
        share = 0.0
    data = services.staffing_for_day(request.user, code, day, share)
    return render(request, "hall/plan.html", data)


@login_required
def traffic(request, code):
    since, until, d1, d2 = _period(request)
    data = services.traffic(request.user, code, since, until)
    return render(request, "hall/traffic.html", {**data, "since": d1, "until": d2})


@login_required
def quality(request, code):
    since, until, d1, d2 = _period(request)
    data = services.hall_quality(request.user, code, since, until)
    return render(request, "hall/quality.html", {**data, "since": d1, "until": d2})


@login_required
def clerk(request, username):
    since, until, d1, d2 = _period(request)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "inspection":
                hall = services.get_hall(request.POST.get("hall", ""))
                services.do_record_inspection(request.user, hall.code, username,
                                              {i["code"]: bool(request.POST.get(i["code"])) for i in checklist()},
                                              request.POST.get("note", ""))
            else:
                services.do_record_training(request.user, username, request.POST.get("kind", ""),
                                            request.POST.get("title", ""),
                                            date.fromisoformat(request.POST.get("on") or str(d2)),
                                            date.fromisoformat(request.POST["valid_until"]) if request.POST.get("valid_until") else None,
                                            request.POST.get("hours") or None, request.POST.get("issuer", ""))
            messages.success(request, _("已记录"))
        except DomainError as exc:
            messages.error(request, _errors(exc))
        except ValueError:
            messages.error(request, _("日期格式不正确，应为YYYY-MM-DD"))
        return redirect("hall:clerk", username=username)
    data = services.clerk_profile(request.user, username, since, until)
    return render(request, "hall/clerk.html", {**data, "since": d1, "until": d2,
                                               "can_manage": can(request.user, "hall.manage")})
