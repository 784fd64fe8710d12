from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from deepfake_site.health import healthz
from deepfake_site.landing import landing
from detector.admin.queue import queue_dashboard_urls
from detector.api.errors import api_not_found

urlpatterns = [
    path("", landing, name="landing"),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("healthz", healthz, name="healthz"),
    path("admin/rq/", include(queue_dashboard_urls())),  # queue operators only
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("analyses/", include("detector.urls")),
    path("api/v1/", include("detector.api.urls")),
    # Anything else under /api/ (an unknown address, an id that is not a UUID): a JSON 404.
    re_path(r"^api/", api_not_found),
]
handler400 = "detector.api.errors.bad_request"
handler500 = "detector.api.errors.server_error"
