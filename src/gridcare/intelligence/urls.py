from django.urls import path

from . import views

urlpatterns = [
    path("accuracy/", views.accuracy, name="accuracy"),
]
