from django.urls import path

from . import views

urlpatterns = [
    path("", views.search, name="search"),
    path("<str:account_no>/", views.detail, name="detail"),
]
