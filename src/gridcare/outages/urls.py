from django.urls import path

from . import views

app_name = "outages"

urlpatterns = [
    path("", views.board, name="board"),
    path("new/", views.plan, name="plan"),
    path("new/check/", views.plan_check, name="plan_check"),
    path("watch/", views.watchlist, name="watchlist"),
    path("<str:outage_no>/", views.detail, name="detail"),
    path("<str:outage_no>/progress/", views.progress, name="progress"),
]
