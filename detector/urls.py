from django.urls import path

from detector import result_views, views
from detector.redirects import moved_to

app_name = "detector"

urlpatterns = [
    path("", views.analysis_list, name="analysis-list"),
    path("new/", views.analysis_create_view, name="analysis-create"),
    path("delete/", views.analysis_bulk_delete, name="analysis-bulk-delete"),
    path("<uuid:pk>/", views.analysis_detail, name="analysis-detail"),
    path("<uuid:pk>/status.json", views.analysis_status, name="analysis-status"),
    path("<uuid:pk>/media/", views.analysis_media, name="analysis-media"),
    path(
        "<uuid:pk>/thumbnail.jpg",
        views.analysis_thumbnail_view,
        name="analysis-thumbnail",
    ),
    path("<uuid:pk>/preview/", views.analysis_preview_view, name="analysis-preview"),
    path("<uuid:pk>/reanalyze/", views.analysis_reanalyze_view, name="analysis-reanalyze"),
    path("<uuid:pk>/reanalyse/", moved_to("detector:analysis-reanalyze")),  # the old spelling
    # The result: downloads, printable report, "this looks wrong".
    path("<uuid:pk>/report.json", result_views.result_json, name="analysis-result-json"),
    path("<uuid:pk>/print/", result_views.result_print, name="analysis-print"),
    path(
        "<uuid:pk>/compare/<uuid:other>/",
        result_views.result_compare,
        name="analysis-compare",
    ),
    path("policies/<int:version>.json", result_views.policy_card_json, name="policy-card"),
    path("<uuid:pk>/c2pa-manifest.json", views.analysis_manifest_view, name="analysis-manifest"),
    path(
        "<uuid:pk>/report-wrong/",
        result_views.result_report_wrong,
        name="analysis-report-wrong",
    ),
]
