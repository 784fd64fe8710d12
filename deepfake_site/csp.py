"""Content-Security-Policy on every HTML page: scripts only from our own static files.

No page runs inline script (event handlers included): behaviour lives in static/js/, and the
API docs load Swagger UI's set-up script from its own URL. Inline styles stay allowed (progress
bars set their width; Swagger UI styles itself). Responses that set a policy of their own
(served media: a sandbox) keep it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
POLICY = "; ".join(DIRECTIVES)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        is_html = response.get("Content-Type", "").startswith("text/html")
        if is_html and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = POLICY
        return response
