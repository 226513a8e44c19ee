from django.contrib import admin

from .models import Customer, InvoiceDetail


class InvoiceInline(admin.StackedInline):
    model = InvoiceDetail
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("account_no", "name", "customer_class", "unit", "transformer_area", "area_kind", "critical", "sensitive")
    list_filter = ("customer_class", "area_kind", "critical", "sensitive")
    search_fields = ("account_no", "name", "phone")
    raw_id_fields = ("transformer_area", "unit")
    inlines = [InvoiceInline]
