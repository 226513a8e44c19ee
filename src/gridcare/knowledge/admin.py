from django.contrib import admin

from .models import Article


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("code", "version", "title", "kind", "public", "status", "valid_from", "valid_to")
    list_filter = ("kind", "public", "status")
    search_fields = ("code", "title", "keywords", "body")
