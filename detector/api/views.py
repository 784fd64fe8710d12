"""API v1 views: thin wrappers around detector.services and detector.selectors."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.login_limits import (
    login_cooloff_seconds,
    login_is_locked_out,
    login_locked_out_message,
    login_succeeded,
)
from accounts.services import token_get_or_create
from detector import selectors, services
from detector.api.errors import ErrorSerializer, TooManyRequests
from detector.api.serializers import (
    AnalysisCreateSerializer,
    AnalysisDetailSerializer,
    AnalysisSerializer,
    DetectorModelSerializer,
    ReportWrongSerializer,
    WebhookSecretSerializer,
)
from detector.api.throttles import UploadBudgetThrottle, UploadMultiPartParser
from detector.forms import AnalysisFilterForm
from detector.models import Analysis, DetectorModel
from detector.selectors import GENERATED_FILTERS, PROVENANCE_FILTERS, SORTS
from detector.upload_budget import upload_budget_refund
from detector.uploads import UploadRejected
from ml.options import AnalysisOptions

# The web history page's filters, under the same names.
LIST_FILTERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=Analysis.Status.values),
    OpenApiParameter("verdict", OpenApiTypes.STR, enum=Analysis.Verdict.values),
    OpenApiParameter("media_type", OpenApiTypes.STR, enum=Analysis.MediaType.values),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Created on or after."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Created on or before."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Search in file names."),
    OpenApiParameter(
        "provenance",
        OpenApiTypes.STR,
        enum=list(PROVENANCE_FILTERS),
        description="From the result's provenance block: "
        + "; ".join(f"{key}: {label}" for key, (label, _) in PROVENANCE_FILTERS.items())
        + " (docs/api.md).",
    ),
    OpenApiParameter(
        "generated",
        OpenApiTypes.STR,
        enum=list(GENERATED_FILTERS),
        description="From the whole-image detectors: "
        + "; ".join(f"{key}: {label}" for key, (label, _) in GENERATED_FILTERS.items())
        + " (docs/api.md).",
    ),
    OpenApiParameter(
        "generated_min",
        OpenApiTypes.FLOAT,
        description="generated_score (P(generated), 0-1) at least; unscored analyses drop out.",
    ),
    OpenApiParameter("sort", OpenApiTypes.STR, enum=list(SORTS), description="Default: newest."),
]


class NotFinished(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_finished"


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class TokenView(ObtainAuthToken):
    """Anonymous by design: a stray or stale Authorization header must not stand in the way."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Exchange a username and password for your API token",
        request=AuthTokenSerializer,
        responses={
            200: TokenSerializer,
            429: OpenApiResponse(
                ErrorSerializer,
                "Too many failed attempts for this username or from this address "
                "(code locked_out); the right password is refused too until "
                "Retry-After seconds pass.",
            ),
        },
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        form = self.get_serializer(data=request.data)
        if not form.is_valid():
            if login_is_locked_out(request):
                raise TooManyRequests(
                    wait=login_cooloff_seconds(),
                    detail=login_locked_out_message(),
                    code="locked_out",
                )
            raise ValidationError(form.errors)
        user = form.validated_data["user"]
        login_succeeded(request=request, user=user)
        return Response({"token": token_get_or_create(user=user).key})


@extend_schema_view(
    list=extend_schema(summary="Your analyses, newest first", parameters=LIST_FILTERS),
    retrieve=extend_schema(summary="One analysis: status, progress, error and result"),
    destroy=extend_schema(summary="Delete an analysis and its stored file"),
)
class AnalysisViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AnalysisSerializer
    queryset = Analysis.objects.none()  # for the schema; requests use the selectors
    parser_classes = (UploadMultiPartParser, FormParser, JSONParser)
    # A UUID; anything else is a plain 404 from the router.
    lookup_value_regex = (
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    )

    def get_throttles(self):
        if self.action in {"create", "reanalyze"}:
            return [UploadBudgetThrottle()]
        return super().get_throttles()

    def get_serializer_class(self):
        return AnalysisSerializer if self.action == "list" else AnalysisDetailSerializer

    def get_queryset(self):
        # The web history's own form checks the filters, so both accept exactly the same.
        form = AnalysisFilterForm(self.request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        analyses = selectors.analysis_list_for(user=self.request.user, filters=form.filters())
        return analyses.prefetch_related("detector_models")

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        selectors.analyses_prefetch_reviews(page if page is not None else queryset)
        return page

    def get_object(self) -> Analysis:
        return selectors.analysis_get_for(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        summary="Upload an image or video for analysis",
        request={"multipart/form-data": AnalysisCreateSerializer},
        responses={202: AnalysisDetailSerializer},
        description="The new analysis' `previous` is your latest earlier analysis of the same "
        "content (by SHA-256), if any; another user's never shows.",
    )
    def create(self, request: Request) -> Response:
        try:
            return self._create(request)
        except ValidationError:
            upload_budget_refund(user=request.user)  # refused: it costs no upload
            raise

    def _create(self, request: Request) -> Response:
        form = AnalysisCreateSerializer(data=request.data)
        rejected = getattr(request, "upload_rejected", None)
        if rejected is not None:  # the upload handler stopped an oversized file
            raise ValidationError({"file": [rejected.message]})
        form.is_valid(raise_exception=True)
        uploaded = form.validated_data["file"]
        try:
            analysis = services.analysis_create(
                owner=request.user,
                uploaded_file=uploaded,
                options=AnalysisOptions.from_dict(form.validated_data),
                callback_url=form.validated_data.get("callback_url", ""),
                # As the web says "you analysed this file before": the owner's own only.
                previous=selectors.analysis_find_upload_duplicate(
                    owner=request.user, uploaded_file=uploaded
                ),
            )
        except UploadRejected as rejection:
            raise ValidationError({"file": [rejection.message]}) from rejection
        return self._accepted(analysis)

    def perform_destroy(self, instance: Analysis) -> None:
        services.analysis_delete(analysis=instance)

    @extend_schema(
        summary="Analyse the same file again with the current models",
        request=None,
        responses={202: AnalysisDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def reanalyze(self, request: Request, pk: str) -> Response:
        try:
            analysis = services.analysis_reanalyze(analysis=self.get_object())
        except services.MediaRemoved as gone:
            upload_budget_refund(user=request.user)
            raise ValidationError({"detail": gone.message}) from gone
        return self._accepted(analysis)

    @extend_schema(
        summary='Flag the result as "looks wrong" for a reviewer',
        request=ReportWrongSerializer,
        responses={
            200: AnalysisDetailSerializer,
            409: OpenApiResponse(
                ErrorSerializer, "The analysis has no result yet (code not_finished)."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk: str) -> Response:
        analysis = self.get_object()
        form = ReportWrongSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            analysis = services.analysis_report_wrong(
                analysis=analysis, note=form.validated_data.get("note", "")
            )
        except services.NoResultToReport as refused:
            raise NotFinished(refused.message) from refused
        return Response(self._detail(analysis))

    def _detail(self, analysis: Analysis) -> dict:
        return AnalysisDetailSerializer(analysis, context=self.get_serializer_context()).data

    def _accepted(self, analysis: Analysis) -> Response:
        """202: the analysis is queued; poll its URL (or wait for the callback)."""
        data = self._detail(analysis)
        return Response(
            data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": str(data["url"])},
        )


@extend_schema_view(
    list=extend_schema(summary="Installed detector models and their model cards"),
)
class DetectorModelViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = DetectorModelSerializer
    queryset = DetectorModel.objects.order_by("-active", "name", "-created")
    filterset_fields = ("name", "version", "active")


class WebhookSecretView(APIView):
    @extend_schema(
        summary="The key your result callbacks are signed with",
        responses=WebhookSecretSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "secret": services.webhook_secret_for(user=request.user),
                "signature_header": services.SIGNATURE_HEADER,
            }
        )
