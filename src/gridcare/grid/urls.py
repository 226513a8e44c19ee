from django.urls import path

from . import views

urlpatterns = [
    path("", views.tree, name="tree"),
    path("taiqu/<str:code>/", views.taiqu_detail, name="taiqu"),
]
