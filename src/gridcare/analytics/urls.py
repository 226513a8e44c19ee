from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("complaints/", views.complaints, name="complaints"),
    path("runs/<int:run_id>/", views.run_status, name="run"),
    path("live/", views.live, name="live"),
    path("ranking/", views.ranking, name="ranking"),
]
