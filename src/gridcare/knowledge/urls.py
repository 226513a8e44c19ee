from django.urls import path

from . import views


urlpatterns = [
    path("", views.search_page, name="search"),
    path("faq/", views.faq, name="faq"),
    path("a/<slug:code>/", views.article, name="article"),
]
