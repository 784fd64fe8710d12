"""The admin's Analysis pages are the reviewers' queue.

Flagged analyses (verdict fake or inconclusive, or reported by their owner) come first. A
reviewer sees the full result (verdict, reasons, charts, faces, the media itself) on the change
page and records a decision there, or on many at once with the bulk actions. Every decision is
a `Review` row (see detector.services.reviews); nothing else about an analysis is editable here.
Only staff with the "detector.review_analysis" permission may review.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.safestring import mark_safe

from detector.admin.metrics import metrics_urls
from detector.downloads import media_response, private_file_response
from detector.flags import review_reasons
from detector.models import Analysis, Review
from detector.previews import PREVIEW_VIDEO, analysis_preview_path
from detector.selectors import (
    GENERATED_FILTERS,
    PROVENANCE_FILTERS,
    REVIEW_OPEN_LABELS,
    analysis_file_review,
    analysis_generated_filter,
    analysis_provenance_filter,
    analysis_review_queue,
)
from detector.services import analysis_delete, analysis_delete_many, review_record
from detector.views import manifest_response

REVIEW_PERMISSION = "detector.review_analysis"


class ReviewForm(forms.ModelForm):
    """The change page's form: a decision and notes; the analysis itself stays read-only."""

    decision = forms.ChoiceField(
        label="Your decision",
        choices=[("", "— no new decision —"), *Analysis.ReviewLabel.choices],
        required=False,
    )
    review_notes = forms.CharField(
        label="Notes",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )

    class Meta:
        model = Analysis
        fields = ()


class ReviewNotesForm(forms.Form):
    """The bulk actions' intermediate page."""

    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )


class AwaitingReviewFilter(admin.SimpleListFilter):
    """The work left: flagged analyses nobody has decided on, or marked for more review."""

    title = "review state"
    parameter_name = "awaiting"
    OPEN_LABELS = REVIEW_OPEN_LABELS

    def lookups(self, request, model_admin):
        return [("yes", "Awaiting review"), ("no", "Decided")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=analysis_review_queue().values("pk"))
        if self.value() == "no":
            return queryset.exclude(review_label__in=self.OPEN_LABELS)
        return queryset


class ProvenanceFilter(admin.SimpleListFilter):
    """What the file's own credentials say (selectors.PROVENANCE_FILTERS, as in the history)."""

    title = "provenance"
    parameter_name = "provenance"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in PROVENANCE_FILTERS.items()]

    def queryset(self, request, queryset):
        return analysis_provenance_filter(queryset, self.value())


class GeneratedFilter(admin.SimpleListFilter):
    """What the whole-image detectors found (selectors.GENERATED_FILTERS, as in the history)."""

    title = "AI generation"
    parameter_name = "generated"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in GENERATED_FILTERS.items()]

    def queryset(self, request, queryset):
        return analysis_generated_filter(queryset, self.value())


class ReviewInline(admin.TabularInline):
    model = Review
    extra = 0
    can_delete = False
    fields = ("created", "reviewer", "label_before", "label_after", "notes")
    readonly_fields = fields
    ordering = ("-created",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        # Reviewers see the history they add to, without a separate "view review" grant.
        return super().has_view_permission(request, obj) or request.user.has_perm(REVIEW_PERMISSION)


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    form = ReviewForm
    # Few, short columns so the queue fits a 1280 px screen beside its filters; the rest is on
    # the change page.
    list_display = (
        "original_filename",
        "owner",
        "machine_verdict",
        "flag_reason",
        "review_label",
        "created",
    )
    list_filter = (
        AwaitingReviewFilter,
        ProvenanceFilter,
        GeneratedFilter,
        "flagged",
        "review_label",
        "status",
        "verdict",
        "media_type",
        "reported_by_owner",
    )
    search_fields = ("original_filename", "owner__username", "sha256", "report_note")
    ordering = ("-flagged", "-created")
    list_select_related = ("owner",)
    date_hierarchy = "created"
    inlines = (ReviewInline,)
    actions = ("confirm_fake", "confirm_real", "needs_more_review")
    review_fieldset = (
        "Review",
        {
            "fields": ("decision", "review_notes"),
            "description": "Keys: F confirm fake, R confirm real, M needs more review "
            "(then Enter saves).",
        },
    )
    flag_fieldset = ("Why flagged", {"fields": ("flag_reason", "review_label")})
    owner_report_fieldset = ("Owner's report", {"fields": ("report_note",)})
    fieldsets = (
        ("Result", {"fields": ("preview",)}),
        (
            "File",
            {
                "fields": (
                    "original_filename",
                    "owner",
                    "media_type",
                    "mime_type",
                    "sha256",
                    "size_bytes",
                )
            },
        ),
        (
            "Processing",
            {
                "classes": ("collapse",),
                "fields": (
                    "status",
                    "progress",
                    "stage",
                    "error_message",
                    "rq_job_id",
                    "options",
                    "created",
                    "started",
                    "finished",
                    "verdict",
                    "fake_probability",
                    "flagged",
                    "reported_by_owner",
                    "detector_models",
                    "code_version",
                    "previous",
                    "callback_url",
                ),
            },
        ),
    )
    # Everything shown is read-only: a decision is made through the review form, never by
    # editing the analysis itself.
    readonly_fields = tuple(
        name
        for _, opts in (flag_fieldset, owner_report_fieldset, *fieldsets)
        for name in opts["fields"]
    )

    class Media:
        js = ("js/review_keys.js",)
        css = {"all": ("css/review.css",)}

    # --- permissions: viewing is ordinary admin access; deciding needs the review permission

    def has_review_permission(self, request: HttpRequest) -> bool:
        return (
            request.user.is_active
            and request.user.is_staff
            and request.user.has_perm(REVIEW_PERMISSION)
        )

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_review_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_view_permission(request, obj) or self.has_review_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # analyses come from uploads only

    def get_fieldsets(self, request: HttpRequest, obj=None):
        # The owner's report only when there is one; the decision form only for reviewers.
        head = [self.flag_fieldset]
        if obj is not None and obj.reported_by_owner:
            head.append(self.owner_report_fieldset)
        if self.has_review_permission(request):
            head.insert(0, self.review_fieldset)
        return (*head, *self.fieldsets)

    @admin.display(description="Machine", ordering="fake_probability")
    def machine_verdict(self, obj: Analysis) -> str:
        if not obj.verdict:
            return obj.get_status_display()
        if obj.fake_probability is None:
            return obj.get_verdict_display()
        return f"{obj.get_verdict_display()} {obj.fake_probability * 100:.0f} %"

    # --- the change page: preview, media for reviewers, a decision recorded as a Review

    @admin.display(description="Why flagged")
    def flag_reason(self, obj: Analysis) -> str:
        if not obj.flagged:
            return ""
        carried = analysis_file_review(analysis=obj)
        earlier = carried.review_label if carried and carried.pk != obj.pk else ""
        reasons = review_reasons(
            obj.result, reported_by_owner=obj.reported_by_owner, earlier_review=earlier
        )
        # Flagged under an earlier rule, or by hand: say so rather than invent a reason.
        return "; ".join(reasons) or "flagged before the current review rule"

    @admin.display(description="Result")
    def preview(self, obj: Analysis) -> str:
        if obj.result is None:
            return obj.error_message or "No result yet."
        # Browsers play the H.264 preview the job made, not an AVI or MKV upload.
        preview = analysis_preview_path(obj)
        if preview is not None and preview.name == PREVIEW_VIDEO:
            media_url = reverse("admin:detector_analysis_preview", args=[obj.pk])
        else:
            media_url = reverse("admin:detector_analysis_media", args=[obj.pk])
        # Safe: the template escapes every value it renders.
        return mark_safe(
            render_to_string(
                "detector/_result.html",
                {"analysis": obj, "media_url": media_url, "review_mode": True},
            )
        )

    def get_urls(self):
        media = path(
            "<uuid:pk>/media/",
            # cacheable: the same private caching as the owner's media, not the admin's no-store.
            self.admin_site.admin_view(self.media_view, cacheable=True),
            name="detector_analysis_media",
        )
        preview = path(
            "<uuid:pk>/preview/",
            self.admin_site.admin_view(self.preview_view, cacheable=True),
            name="detector_analysis_preview",
        )
        manifest = path(
            "<uuid:pk>/c2pa-manifest.json",
            self.admin_site.admin_view(self.manifest_view),
            name="detector_analysis_manifest",
        )
        return [media, preview, manifest, *metrics_urls(self), *super().get_urls()]

    def media_view(self, request: HttpRequest, pk) -> FileResponse:
        """The uploaded file, for whoever may view the analysis in the admin."""
        analysis = Analysis.objects.filter(pk=pk).first()
        if analysis is None or not self.has_view_permission(request, analysis):
            raise Http404
        return media_response(request=request, analysis=analysis)

    def preview_view(self, request: HttpRequest, pk) -> FileResponse:
        """The browser-playable H.264 preview of a video, for whoever may view the analysis."""
        analysis = Analysis.objects.filter(pk=pk).first()
        if analysis is None or not self.has_view_permission(request, analysis):
            raise Http404
        preview = analysis_preview_path(analysis)
        if preview is None or preview.name != PREVIEW_VIDEO:
            raise Http404
        return private_file_response(request, preview, content_type="video/mp4")

    def manifest_view(self, request: HttpRequest, pk) -> JsonResponse:
        """The raw Content Credentials manifest, for whoever may view the analysis here."""
        analysis = Analysis.objects.filter(pk=pk).first()
        if analysis is None or not self.has_view_permission(request, analysis):
            raise Http404
        return manifest_response(analysis)

    def save_model(self, request: HttpRequest, obj: Analysis, form, change: bool) -> None:
        # Nothing on the row is edited here; a decision is recorded through the review service
        # (which also sets review_label), so a running job's writes are never overwritten.
        decision = form.cleaned_data.get("decision")
        if decision:
            review_record(
                analysis=obj,
                reviewer=request.user,
                label=decision,
                notes=form.cleaned_data.get("review_notes", ""),
            )

    # Deleting goes through the service so the stored file goes with the row.
    def delete_model(self, request: HttpRequest, obj: Analysis) -> None:
        analysis_delete(analysis=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        analysis_delete_many(analyses=queryset)

    # --- bulk decisions, with notes from an intermediate page

    def _review_many(self, request: HttpRequest, queryset, label: str, title: str):
        form = ReviewNotesForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for analysis in queryset:
                review_record(
                    analysis=analysis,
                    reviewer=request.user,
                    label=label,
                    notes=form.cleaned_data["notes"],
                )
            label_text = Analysis.ReviewLabel(label).label.lower()
            self.message_user(
                request,
                f"{queryset.count()} analyses marked “{label_text}”.",
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/detector/analysis/review_action.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "analyses": queryset,
                "form": form,
                "action": request.POST.get("action"),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Confirm fake (with notes)", permissions=["review"])
    def confirm_fake(self, request, queryset):
        return self._review_many(
            request, queryset, Analysis.ReviewLabel.CONFIRMED_FAKE, "Confirm fake"
        )

    @admin.action(description="Confirm real (with notes)", permissions=["review"])
    def confirm_real(self, request, queryset):
        return self._review_many(
            request, queryset, Analysis.ReviewLabel.CONFIRMED_REAL, "Confirm real"
        )

    @admin.action(description="Needs more review (with notes)", permissions=["review"])
    def needs_more_review(self, request, queryset):
        return self._review_many(
            request,
            queryset,
            Analysis.ReviewLabel.NEEDS_MORE_REVIEW,
            "Needs more review",
        )
