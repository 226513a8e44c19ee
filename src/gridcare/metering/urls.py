from django.urls import path

from . import views

urlpatterns = [
    path("", views.routes, name="routes"),
    path("exceptions/", views.exceptions, name="exceptions"),
    path("exceptions/<int:pk>/resolve/", views.resolve, name="resolve"),
]
