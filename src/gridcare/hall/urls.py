from django.urls import path

from . import views

urlpatterns = [
    path("", views.counter, name="counter"),
    path("counter/action/", views.counter_action, name="counter_action"),
    path("apply/", views.apply, name="apply"),
    path("self/", views.self_service, name="self"),
    path("t/<str:token>/", views.ticket, name="ticket"),
    path("t/<str:token>/qr.svg", views.ticket_qr, name="ticket_qr"),
    path("appointments/<str:token>/", views.appointment, name="appointment"),
    path("clerks/<str:username>/", views.clerk, name="clerk"),
    path("<str:code>/kiosk/", views.kiosk, name="kiosk"),
    path("<str:code>/display/", views.display, name="display"),
    path("<str:code>/display/board/", views.display_board, name="display_board"),
    path("<str:code>/book/", views.book, name="book"),
    path("<str:code>/plan/", views.plan, name="plan"),
    path("<str:code>/traffic/", views.traffic, name="traffic"),
    path("<str:code>/quality/", views.quality, name="quality"),
]
