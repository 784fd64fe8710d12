from django.contrib import admin

from detector.models import Analysis


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    list_display = ["original_filename", "owner", "media_type", "status", "verdict", "flagged", "created"]
    list_filter = ["status", "verdict", "flagged", "media_type"]
    search_fields = ["original_filename", "owner__username", "sha256"]
from detector import admin_models  # noqa: E402,F401  (registers DetectorModel admin)
