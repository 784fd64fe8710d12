"""URL patterns of the result views (downloads, printable report, "this looks wrong").

Included into the "detector" namespace by detector/urls.py.
"""

from django.urls import path

from detector import result_views

urlpatterns = [
    path("<uuid:pk>/report.json", result_views.result_json, name="analysis-result-json"),
    path("<uuid:pk>/print/", result_views.result_print, name="analysis-print"),
    path(
        "<uuid:pk>/report-wrong/",
        result_views.result_report_wrong,
        name="analysis-report-wrong",
    ),
]
