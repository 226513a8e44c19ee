"""Default admin pages for an app's models: every foreign key as a raw id (tables of 50,000 customers
never render as a select), the first columns as the list, read-only for append-only logs."""
from django.apps import apps
from django.contrib import admin
from django.db import models


def register_all(app_label: str, read_only: tuple[str, ...] = ()):
    for model in apps.get_app_config(app_label).get_models():
        if admin.site.is_registered(model):
            continue
        fks = [f.name for f in model._meta.get_fields()
               if isinstance(f, (models.ForeignKey, models.OneToOneField)) and f.concrete]
        columns = [f.name for f in model._meta.concrete_fields if not isinstance(f, (models.JSONField, models.TextField))]
        attrs = {"raw_id_fields": fks, "list_display": columns[:7] or ["pk"],
                 "search_fields": [c for c in columns if c in ("code", "name", "title", "order_no", "outage_no",
                                                               "account_no", "number", "meter_no")]}
        if model.__name__ in read_only:
            attrs["has_change_permission"] = lambda self, request, obj=None: False
            attrs["has_delete_permission"] = lambda self, request, obj=None: False
        admin.site.register(model, type(f"{model.__name__}Admin", (admin.ModelAdmin,), attrs))
