"""The API's one error shape: {"detail": "...", "code": "..."}, plus "fields" on a 400.

Every error under /api/ has it: DRF's exceptions (through `api_exception_handler`), unknown
addresses (`api_not_found`), requests Django refuses before any view (`bad_request`: a
`Host` not in ALLOWED_HOSTS) and server errors (`server_error`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import DisallowedHost
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.views import exception_handler

API_PREFIX = "/api/"
NON_FIELD = "non_field_errors"


class ErrorSerializer(serializers.Serializer):
    """Every API error: what went wrong and a stable code; on a 400, the messages per field."""

    detail = serializers.CharField(help_text="What went wrong, in words you can show a user.")
    code = serializers.CharField(
        help_text="A stable code: invalid, not_authenticated, authentication_failed, "
        "permission_denied, not_found, method_not_allowed, unsupported_media_type, "
        "not_finished, throttled, locked_out, server_error, ..."
    )
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="400 only: the messages for each request field that was refused "
        f"({NON_FIELD} for the request as a whole).",
    )


class TooManyRequests(exceptions.Throttled):
    """429 with a message of our own (DRF's appends "Expected available in N seconds")."""

    def __init__(self, *, wait: int, detail: str, code: str = "throttled"):
        super().__init__(wait=wait)
        self.detail = exceptions.ErrorDetail(detail, code=code)


def error_body(
    detail: str, code: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail, "code": code}
    if fields:
        body["fields"] = fields
    return body


def api_exception_handler(exc: Exception, context: dict) -> HttpResponse | None:
    """DRF's handler (statuses, Retry-After, WWW-Authenticate) with our body."""
    # As DRF's handler does, so that Django's exceptions get a code too.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API exception: a 500, answered by `server_error`
    if isinstance(exc, ValidationError):
        fields = _field_messages(exc.detail)
        response.data = error_body(_first_message(fields), "invalid", fields)
    elif isinstance(exc, APIException):
        response.data = error_body(str(exc.detail), _code(exc))
    return response


@csrf_exempt  # it changes nothing, so any method gets the same JSON 404, not a CSRF page
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any address under /api/ that names no endpoint (or an id that is not a UUID)."""
    return JsonResponse(
        error_body(
            "Not found. API addresses end with a slash, for example /api/v1/analyses/.",
            "not_found",
        ),
        status=404,
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 400 handler: JSON under /api/, the usual page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            error_body("Bad request: this server does not answer for that Host.", "bad_request")
            if isinstance(exception, DisallowedHost)
            else error_body("Bad request.", "bad_request"),
            status=400,
        )
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """The site's 500 handler: JSON under /api/, the usual page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            error_body("Server error. Please try again later.", "server_error"),
            status=500,
        )
    return defaults.server_error(request)


def _code(exc: APIException) -> str:
    detail = exc.detail
    return getattr(detail, "code", None) or exc.default_code


def _field_messages(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(name): _messages(value) for name, value in detail.items()}
    return {NON_FIELD: _messages(detail)}


def _messages(value: Any) -> list[str]:
    """Nested error lists and dicts flattened to plain messages."""
    if isinstance(value, dict):
        return [m for item in value.values() for m in _messages(item)]
    if isinstance(value, list):
        return [m for item in value for m in _messages(item)]
    return [str(value)]


def _first_message(fields: dict[str, list[str]]) -> str:
    for name, messages in fields.items():
        if messages:
            return messages[0] if name == NON_FIELD else f"{name}: {messages[0]}"
    return "Invalid input."
