"""The web pages of the detector: upload, history, one analysis, its media and live status.

Views stay thin: they validate input, call a service or selector, and render.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from detector.downloads import media_response, private_file_response
from detector.forms import AnalysisFilterForm, AnalysisUploadForm, ReanalyzeForm
from detector.presenters import analysis_status_dict
from detector.previews import PREVIEW_VIDEO, analysis_preview_path
from detector.selectors import (
    analyses_prefetch_reviews,
    analysis_find_upload_duplicate,
    analysis_get_for,
    analysis_list_for,
    analysis_manifest,
    analysis_pick_for,
    models_active,
)
from detector.services import (
    MediaRemoved,
    analysis_create,
    analysis_delete_many,
    analysis_reanalyze,
    analysis_thumbnail,
)
from detector.upload_budget import UploadBudgetSpent, upload_budget_refund, upload_budget_spend
from detector.uploads import UploadRejected, upload_parse_error_message
from ml.options import UPLOAD_FRAMES, AnalysisOptions

PAGE_SIZE = 25


@login_required
@require_GET
def analysis_list(request: HttpRequest) -> HttpResponse:
    filter_form = AnalysisFilterForm(request.GET or None)
    analyses = analysis_list_for(user=request.user, filters=filter_form.filters())
    page = Paginator(analyses.prefetch_related("detector_models"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    analyses_prefetch_reviews(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "detector/analysis_list.html",
        {
            "filter_form": filter_form,
            "page": page,
            "rows": grouped_by_first_run(page.object_list),
            "query": query.urlencode(),
        },
    )


def grouped_by_first_run(analyses) -> list:
    """The page's analyses with each re-analysis placed right under the first run of its file
    (when that run is on the page too), in the page's order otherwise."""
    rows = list(analyses)
    by_id = {analysis.pk: analysis for analysis in rows}

    def first_run(analysis):
        seen = set()
        while analysis.previous_id in by_id and analysis.pk not in seen:
            seen.add(analysis.pk)
            analysis = by_id[analysis.previous_id]
        return analysis

    groups: dict = {}
    for analysis in rows:
        groups.setdefault(first_run(analysis).pk, []).append(analysis)
    ordered = []
    for analysis in rows:
        if first_run(analysis) is analysis:
            ordered += [analysis, *(a for a in groups[analysis.pk] if a is not analysis)]
    return ordered


@login_required
@require_http_methods(["GET", "POST"])
def analysis_create_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "detector/analysis_form.html", {"form": AnalysisUploadForm()})

    try:
        files = request.FILES  # parsing the body runs the upload handler, which may reject
    except MultiPartParserError as error:
        return _upload_refused(request, upload_parse_error_message(error))
    rejected = getattr(request, "upload_rejected", None)
    form = AnalysisUploadForm(
        request.POST, files, upload_error=rejected.message if rejected else ""
    )
    if not form.is_valid():
        return render(request, "detector/analysis_form.html", {"form": form}, status=400)

    uploaded = form.cleaned_data["file"]
    # The same content was analysed before: offer that result (or a fresh run of the stored
    # copy) instead of storing and queueing it again.
    existing = analysis_find_upload_duplicate(owner=request.user, uploaded_file=uploaded)
    if existing is not None:
        return render(request, "detector/analysis_duplicate.html", {"existing": existing})
    try:
        # Spent only by an upload that will be analysed: a refused one costs nothing.
        upload_budget_spend(user=request.user)  # the same budget as the API's uploads
    except UploadBudgetSpent as spent:
        return _upload_refused(request, spent.message, status=429, retry_after=spent.wait_s)
    try:
        analysis = analysis_create(
            owner=request.user, uploaded_file=uploaded, options=form.options()
        )
    except UploadRejected as rejection:
        upload_budget_refund(user=request.user)
        form.add_error("file", rejection.message)
        return render(request, "detector/analysis_form.html", {"form": form}, status=400)
    messages.success(request, f"“{analysis.original_filename}” is queued for analysis.")
    return redirect("detector:analysis-detail", pk=analysis.pk)


def _upload_refused(
    request: HttpRequest, message: str, *, status: int = 400, retry_after: int = 0
) -> HttpResponse:
    form = AnalysisUploadForm(data={}, upload_error=message)
    form.is_valid()  # shows the message where the file goes, as for a too-large file
    response = render(request, "detector/analysis_form.html", {"form": form}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@login_required
@require_GET
def analysis_detail(request: HttpRequest, pk) -> HttpResponse:
    analysis = analysis_get_for(user=request.user, pk=pk)
    return render(
        request,
        "detector/analysis_detail.html",
        {
            "analysis": analysis,
            "reanalyses": analysis.reanalyses.order_by("-created").prefetch_related(
                "detector_models"
            ),
            "reanalyze_form": ReanalyzeForm(
                models=models_active(),
                frames=AnalysisOptions.from_dict(analysis.options).frames,
            ),
            "preview_kind": _preview_kind(analysis),
            "status_url": reverse("detector:analysis-status", args=[analysis.pk]),
        },
    )


@login_required
@require_GET
def analysis_status(request: HttpRequest, pk) -> JsonResponse:
    """The small JSON the detail page polls while an analysis runs."""
    analysis = analysis_get_for(user=request.user, pk=pk)
    return JsonResponse(analysis_status_dict(analysis=analysis))


@login_required
@require_GET
def analysis_media(request: HttpRequest, pk) -> FileResponse:
    analysis = analysis_get_for(user=request.user, pk=pk)
    return media_response(
        request=request,
        analysis=analysis,
        as_attachment=request.GET.get("download") == "1",
    )


@login_required
@require_GET
def analysis_manifest_view(request: HttpRequest, pk) -> JsonResponse:
    """The file's raw Content Credentials manifest (as the reader gave it), for its owner only."""
    return manifest_response(analysis_get_for(user=request.user, pk=pk))


def manifest_response(analysis) -> JsonResponse:
    """The kept manifest as JSON; 404 when there is none (no credentials, or not kept)."""
    manifest = analysis_manifest(analysis)
    if manifest is None:
        raise Http404("No Content Credentials manifest is kept for this analysis.")
    response = JsonResponse(manifest, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = 'inline; filename="c2pa-manifest.json"'
    response["Cache-Control"] = "private, no-cache"
    return response


def _preview_kind(analysis) -> str:
    """ "video" (a browser-playable copy), "strip" (frames as one JPEG) or ""."""
    preview = analysis_preview_path(analysis)
    if preview is None:
        return ""
    return "video" if preview.name == PREVIEW_VIDEO else "strip"


@login_required
@require_GET
def analysis_preview_view(request: HttpRequest, pk) -> FileResponse:
    """The browser-playable preview of a video, for its owner only."""
    analysis = analysis_get_for(user=request.user, pk=pk)
    preview = analysis_preview_path(analysis)
    if preview is None:
        raise Http404("No preview.")
    kind = "video/mp4" if preview.name == PREVIEW_VIDEO else "image/jpeg"
    return private_file_response(request, preview, content_type=kind)


@login_required
@require_GET
def analysis_thumbnail_view(request: HttpRequest, pk) -> FileResponse:
    analysis = analysis_get_for(user=request.user, pk=pk)
    thumbnail = analysis_thumbnail(analysis=analysis)
    if thumbnail is None:
        raise Http404("No thumbnail.")
    response = FileResponse(thumbnail.open("rb"), content_type="image/jpeg")
    # Until the result exists the thumbnail is a frame; then it becomes the deciding face.
    response["Cache-Control"] = (
        "private, max-age=86400" if analysis.is_finished else "private, no-cache"
    )
    return response


@login_required
@require_POST
def analysis_reanalyze_view(request: HttpRequest, pk) -> HttpResponse:
    analysis = analysis_get_for(user=request.user, pk=pk)
    try:
        upload_budget_spend(user=request.user)
    except UploadBudgetSpent as spent:
        messages.error(request, spent.message)
        return redirect("detector:analysis-detail", pk=analysis.pk)
    form = ReanalyzeForm(request.POST, models=models_active())
    if not form.is_valid():
        low, high = UPLOAD_FRAMES.low, UPLOAD_FRAMES.high
        messages.error(request, f"Choose an active model and {low} to {high} frames.")
        return redirect("detector:analysis-detail", pk=analysis.pk)
    try:
        again = analysis_reanalyze(
            analysis=analysis,
            options=form.options(analysis.options),
            models=form.chosen_models(),
        )
    except MediaRemoved as gone:
        upload_budget_refund(user=request.user)
        messages.error(request, gone.message)
        return redirect("detector:analysis-detail", pk=analysis.pk)
    messages.success(request, "A new analysis is queued; the earlier result is kept.")
    return redirect("detector:analysis-detail", pk=again.pk)


@login_required
@require_POST
def analysis_bulk_delete(request: HttpRequest) -> HttpResponse:
    """First POST shows what will go; the second, with confirm=yes, deletes it."""
    chosen = analysis_pick_for(user=request.user, pks=_valid_ids(request.POST.getlist("ids")))
    if not chosen:
        messages.warning(request, "Select the analyses to delete first.")
        return redirect("detector:analysis-list")
    if request.POST.get("confirm") != "yes":
        return render(request, "detector/analysis_confirm_delete.html", {"analyses": chosen})
    count = analysis_delete_many(analyses=chosen)
    messages.success(
        request,
        f"Deleted {count} analys{'is' if count == 1 else 'es'} and their files.",
    )
    return redirect("detector:analysis-list")


def _valid_ids(values: list[str]) -> list[str]:
    valid = []
    for value in values:
        try:
            valid.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return valid
