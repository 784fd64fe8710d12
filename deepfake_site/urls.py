from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from deepfake_site.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="detector:analysis-list", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("analyses/", include("detector.urls")),
    path("api/v1/", include("detector.api.urls")),
]
