from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from gridcare.accounts.forms import ThrottledLoginForm
from gridcare.api import api
from gridcare.core import views as core_views

admin.site.site_header = "GridCare 供电服务指挥平台 管理后台"
admin.site.site_title = "GridCare"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(authentication_form=ThrottledLoginForm,
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("audit/", core_views.audit_list, name="core-audit"),
    path("customers/", include(("gridcare.customers.urls", "customers"))),
    path("grid/", include(("gridcare.grid.urls", "grid"))),
    path("workorders/", include(("gridcare.workorders.urls", "workorders"))),
    path("outages/", include(("gridcare.outages.urls", "outages"))),
    path("analytics/", include(("gridcare.analytics.urls", "analytics"))),
    path("knowledge/", include(("gridcare.knowledge.urls", "knowledge"))),
    path("intelligence/", include(("gridcare.intelligence.urls", "intelligence"))),
    path("metering/", include(("gridcare.metering.urls", "metering"))),
    path("billing/", include(("gridcare.billing.urls", "billing"))),
    path("hall/", include(("gridcare.hall.urls", "hall"))),
    path("healthz", core_views.healthz, name="healthz"),
]
