"""API representations of analyses and installed models.

An analysis' values come from `detector.presenters.analysis_public_dict`, the shape the result
callbacks and the detail page's status JSON share; the fields declared here describe it in the
OpenAPI schema. The result is the stored Report JSON as it is (docs/report.md).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from detector.models import Analysis, DetectorModel
from detector.presenters import DETAIL_FIELDS, PUBLIC_FIELDS, analysis_public_dict, model_card_url
from detector.services import validate_callback_url
from ml.options import DEFAULT_FRAMES, UPLOAD_FRAMES


class ModelRefSerializer(serializers.ModelSerializer):
    card = serializers.SerializerMethodField(
        help_text="Where this model's card is: the models list filtered to it."
    )

    class Meta:
        model = DetectorModel
        fields = ("name", "version", "arch", "sha256", "card")
        read_only_fields = fields

    def get_card(self, model: DetectorModel) -> str:
        return model_card_url(model=model, request=self.context.get("request"))


class ReviewSummarySerializer(serializers.Serializer):
    label = serializers.ChoiceField(
        choices=Analysis.ReviewLabel.choices, help_text="The reviewer's current decision."
    )
    truth = serializers.ChoiceField(
        choices=[Analysis.Verdict.FAKE, Analysis.Verdict.REAL],
        allow_null=True,
        help_text='What the decision says the file is; null for "needs more review".',
    )
    contradicts_verdict = serializers.BooleanField(
        help_text="The truth is the opposite of this analysis' confident verdict."
    )
    reviewed = serializers.DateTimeField(
        allow_null=True, help_text="When the decision was recorded."
    )
    analysis = serializers.UUIDField(
        help_text="The analysis the reviewer decided on: this one, or an earlier analysis of "
        "the same file (then carried_forward is true)."
    )
    carried_forward = serializers.BooleanField(
        help_text="The decision was made on another of your analyses of the same content."
    )


class AnalysisSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:analysis-detail")
    error = serializers.CharField(
        source="error_message",
        read_only=True,
        help_text="Why it failed, in words you can show a user; empty otherwise.",
    )
    # Declared, not generated: a generated read-only field loses blank and null from the
    # schema, and "" or null would then break strict clients.
    verdict = serializers.ChoiceField(
        choices=Analysis.Verdict.choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty until the analysis is done.",
    )
    answer = serializers.SerializerMethodField(
        help_text="The answer to lead with: the reviewer's (review.truth) where a reviewer "
        "confirmed the file fake or real, else the verdict. Empty until done.",
    )
    review = serializers.SerializerMethodField(
        help_text="The reviewer's decision on this file, if any (docs/api.md, Reviews).",
    )
    review_label = serializers.ChoiceField(
        choices=Analysis.ReviewLabel.choices,
        allow_blank=True,
        read_only=True,
        help_text="A reviewer's decision; empty until there is one.",
    )
    callback_url = serializers.CharField(
        read_only=True,
        help_text="The http(s) URL that receives the result; empty when none was given.",
    )
    previous = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The analysis this one repeats: the run it re-analyses, or your earlier "
        "analysis of the same content uploaded again; null for a first upload.",
    )
    generated_score = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="P(generated) by the whole-image detectors (result.generated.score); null "
        "when none ran.",
    )
    models = ModelRefSerializer(source="detector_models", many=True, read_only=True)

    class Meta:
        model = Analysis
        fields = PUBLIC_FIELDS
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(choices=Analysis.Verdict.choices, allow_blank=True)
    )
    def get_answer(self, analysis: Analysis) -> str:
        return analysis_public_dict(analysis=analysis, fields=("answer",))["answer"]

    @extend_schema_field(ReviewSummarySerializer(allow_null=True))
    def get_review(self, analysis: Analysis) -> dict[str, Any] | None:
        return analysis_public_dict(analysis=analysis, fields=("review",))["review"]

    def to_representation(self, instance: Analysis) -> dict[str, Any]:
        # The fields above describe the schema; the values are the one public shape.
        return analysis_public_dict(
            analysis=instance,
            request=self.context.get("request"),
            fields=self.Meta.fields,
            url_format=self.context.get("format"),
        )


class AnalysisDetailSerializer(AnalysisSerializer):
    result = serializers.JSONField(
        read_only=True, help_text="The Report JSON (docs/report.md); null until done."
    )

    class Meta(AnalysisSerializer.Meta):
        fields = DETAIL_FIELDS
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file sent in the request body (the schema says binary, not a URL)."""


class AnalysisCreateSerializer(serializers.Serializer):
    # Empty files pass here so that the upload check gives its own, specific message.
    file = UploadField(allow_empty_file=True, help_text="The image or video to analyse.")
    callback_url = serializers.URLField(
        required=False,
        allow_blank=True,
        max_length=500,
        validators=[validate_callback_url],
        help_text="http(s) URL that receives the signed result when the analysis ends.",
    )
    frames = serializers.IntegerField(
        required=False,
        min_value=UPLOAD_FRAMES.low,
        max_value=UPLOAD_FRAMES.high,
        help_text=(
            f"How many evenly spaced video frames the classifier scores (default {DEFAULT_FRAMES})."
        ),
    )


class ReportWrongSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="What looks wrong, in your words (optional).",
    )


class DetectorModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = DetectorModel
        fields = (
            "name",
            "version",
            "arch",
            "kind",
            "sha256",
            "active",
            "ensemble_weight",
            "card",
            "created",
        )
        read_only_fields = fields

    def to_representation(self, instance: DetectorModel) -> dict:
        """The card without `installed.source`: where the server fetched the files from (a path
        on the server, a private mirror) is the operators' business, not every user's."""
        data = super().to_representation(instance)
        card = dict(data.get("card") or {})
        if isinstance(card.get("installed"), dict):
            card["installed"] = {k: v for k, v in card["installed"].items() if k != "source"}
            data["card"] = card
        return data


class WebhookSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True)
    signature_header = serializers.CharField(read_only=True)
