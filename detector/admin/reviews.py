"""The reviewers' decision log in the admin: every Review row, read-only."""

from django.contrib import admin

from detector.models import Review


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """The full decision log, read-only."""

    list_display = ("created", "analysis", "reviewer", "label_before", "label_after")
    list_filter = ("label_after",)
    search_fields = ("analysis__original_filename", "reviewer__username", "notes")
    readonly_fields = (
        "analysis",
        "reviewer",
        "label_before",
        "label_after",
        "notes",
        "created",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
