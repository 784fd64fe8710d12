"""API v1, mounted at /api/v1/ (see docs/api.md)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from detector.api.views import (
    AnalysisViewSet,
    DetectorModelViewSet,
    TokenView,
    WebhookSecretView,
)
from detector.redirects import moved_to

app_name = "api"

router = DefaultRouter()
router.register("analyses", AnalysisViewSet, basename="analysis")
router.register("models", DetectorModelViewSet, basename="model")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("webhook-secret/", WebhookSecretView.as_view(), name="webhook-secret"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
    # The old spelling; not in the schema.
    path("analyses/<uuid:pk>/reanalyse/", moved_to("api:analysis-reanalyze")),
]
