from django.urls import path

from . import views

urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.intake, name="intake"),
    path("lookup/", views.lookup, name="lookup"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("<str:order_no>/", views.detail, name="detail"),
    path("<str:order_no>/action/", views.action, name="action"),
]
