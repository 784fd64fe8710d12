"""Per-user rate limits of the API's expensive actions."""

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class UploadRateThrottle(UserRateThrottle):
    """Uploads and re-analyses per user, at the "uploads" rate of REST_FRAMEWORK settings.

    Each one queues minutes of face tracking and classification, so they are limited per
    user (per client address for anonymous requests, which are refused anyway).
    """

    scope = "uploads"

    def get_rate(self) -> str | None:
        # Read the rate when the request arrives, not at import, so that a changed setting
        # (API_UPLOAD_RATE, or a test's override) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
