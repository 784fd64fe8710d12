"""The staff Metrics page: how the verdicts held up against reviews, and its CSV export.

Both pages sit under the Analysis admin (`/admin/detector/analysis/metrics/`): only active
staff reach them (`admin_site.admin_view`), and only those who may view analyses there (the
view permission or the review permission) see them; the admin index links the page. The numbers
come from `detector.metrics`.
"""

from __future__ import annotations

import csv

from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone

from detector.metrics import GroupMetrics, review_metrics, reviewed_rows
from detector.models import Analysis

CSV_COLUMNS = ("id", "model", "verdict", "fake_probability", "review_label", "truth")


def metrics_urls(model_admin: ModelAdmin) -> list[URLPattern]:
    """The page and its export, for the Analysis admin's URLs."""

    def guarded(view):
        def check(request: HttpRequest) -> HttpResponse:
            if not model_admin.has_view_permission(request):
                raise PermissionDenied
            return view(request)

        return model_admin.admin_site.admin_view(check)

    return [
        path("metrics/", guarded(_page(model_admin)), name="detector_review_metrics"),
        path("metrics.csv", guarded(metrics_csv), name="detector_review_metrics_csv"),
    ]


def _page(model_admin: ModelAdmin):
    admin_site = model_admin.admin_site

    def metrics_page(request: HttpRequest) -> TemplateResponse:
        groups = review_metrics()
        chart = [
            {
                "name": group.name,
                "points": [
                    {"x": b.mean_probability, "y": b.fraction_fake, "count": b.count}
                    for b in group.calibration
                ],
            }
            for group in groups
        ]
        return TemplateResponse(
            request,
            "admin/detector/metrics.html",
            {
                **admin_site.each_context(request),
                "title": "Review metrics",
                "opts": Analysis._meta,
                "groups": [_display(group) for group in groups],
                "chart": chart,
            },
        )

    return metrics_page


def _display(group: GroupMetrics) -> dict:
    """A group's numbers as the page's table shows them."""
    return {
        "name": group.name,
        "count": group.count,
        "fakes": group.fakes,
        "reals": group.reals,
        "auc": "—" if group.auc is None else f"{group.auc:.3f}",
        "scored": group.scored,
        "false_positive": _rate(group.real_called_fake, group.reals),
        "false_negative": _rate(group.fake_called_real, group.fakes),
        "inconclusive": _rate(group.inconclusive, group.count),
        "calibration": group.calibration,
    }


def _rate(part: int, whole: int) -> str:
    return f"{part} of {whole} ({100 * part / whole:.0f} %)" if whole else "—"


def metrics_csv(request: HttpRequest) -> HttpResponse:
    """One row per reviewed analysis: id, model(s), verdict, fake probability, label, truth."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="review-metrics-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in reviewed_rows():
        probability = "" if row.fake_probability is None else repr(row.fake_probability)
        writer.writerow([row.id, row.models, row.verdict, probability, row.review_label, row.truth])
    return response
