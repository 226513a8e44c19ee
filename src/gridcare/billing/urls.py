from django.urls import path

from . import views

urlpatterns = [
    path("arrears/", views.arrears, name="arrears"),
    path("bills/<str:bill_no>/", views.bill, name="bill"),
]
