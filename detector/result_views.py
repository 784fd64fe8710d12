"""Owner-only views around a finished result: JSON download, printable report, "looks wrong",
the policy card it was judged under.

Access always goes through `analysis_get_for`, so another user's id is a 404.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from detector import selectors
from detector.downloads import content_disposition
from detector.models import Analysis
from detector.presenters import analyses_compare_rows, analysis_export_dict
from detector.selectors import analysis_get_for
from detector.services import analysis_report_wrong

MAX_NOTE_CHARS = 2000


def _stem(analysis: Analysis) -> str:
    return PurePosixPath(analysis.original_filename).stem or "analysis"


def _finished_analysis(request: HttpRequest, pk) -> Analysis:
    analysis = analysis_get_for(user=request.user, pk=pk)
    if analysis.result is None:
        raise Http404("This analysis has no result yet.")
    return analysis


@login_required
@require_GET
def result_json(request: HttpRequest, pk) -> HttpResponse:
    """The stored Report with the file's and the run's identity, as a file named after the upload
    (docs/report.md, "Export")."""
    analysis = _finished_analysis(request, pk)
    stem = _stem(analysis)
    response = HttpResponse(
        json.dumps(analysis_export_dict(analysis=analysis), indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition(f"{stem}.report.json", attachment=True)
    return response


@login_required
@require_GET
def result_print(request: HttpRequest, pk) -> HttpResponse:
    analysis = _finished_analysis(request, pk)
    response = render(
        request,
        "detector/analysis_print.html",
        {
            "analysis": analysis,
            "print_mode": True,
            "identity": analysis_export_dict(analysis=analysis)["analysis"],
            "media_url": reverse("detector:analysis-media", args=[analysis.pk])
            if analysis.media_type == Analysis.MediaType.IMAGE and analysis.has_media
            else "",
        },
    )
    # Shown in the browser; "Save page" offers a name that says what it is.
    response["Content-Disposition"] = content_disposition(
        f"{_stem(analysis)}.report.html", attachment=False
    )
    return response


@login_required
@require_GET
def result_compare(request: HttpRequest, pk, other) -> HttpResponse:
    """Two finished runs of one file (the owner's): models, policy, verdict, people's scores."""
    runs = sorted(
        (_finished_analysis(request, pk), _finished_analysis(request, other)),
        key=lambda analysis: analysis.created,
    )
    if runs[0].pk == runs[1].pk or runs[0].sha256 != runs[1].sha256:
        raise Http404("Only two runs of the same file can be compared.")
    return render(
        request,
        "detector/analysis_compare.html",
        {"runs": runs, "rows": analyses_compare_rows(earlier=runs[0], later=runs[1])},
    )


@login_required
@require_POST
def result_report_wrong(request: HttpRequest, pk) -> HttpResponse:
    analysis = _finished_analysis(request, pk)
    note = request.POST.get("note", "")[:MAX_NOTE_CHARS]
    analysis_report_wrong(analysis=analysis, note=note)
    messages.success(request, "Thank you. A reviewer will look at this result.")
    return redirect("detector:analysis-detail", pk=analysis.pk)


@login_required
@require_GET
def policy_card_json(request: HttpRequest, version: int) -> JsonResponse:
    """The policy card a result was judged under, as JSON: for staff, and for the owners of
    results judged under it (the result page links here)."""
    if not selectors.policy_card_visible(user=request.user, version=version):
        raise Http404("No such policy card.")
    card = selectors.policy_card_read(str(version))
    if card is None:
        raise Http404("No such policy card.")
    return JsonResponse(card, json_dumps_params={"indent": 2})
