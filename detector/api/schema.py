"""The OpenAPI schema documents every error an operation can answer, and its headers.

drf-spectacular describes successes only; this schema class adds the error responses that
follow from what the operation is (one shape for all, `detector.api.errors.ErrorSerializer`):

- 400 when it takes a body or query parameters,
- 401 and 403 when it needs authentication (403: a browser session without its CSRF token),
- 404 when its path names an object, or its list is paginated (`?page=` past the end),
- 429 when it is throttled (`Retry-After` says how many seconds to wait),

and the `Location` header of 202 Accepted.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from detector.api.errors import ErrorSerializer

RESPONSE_HEADERS = [
    OpenApiParameter(
        "Location",
        OpenApiTypes.URI,
        location=OpenApiParameter.HEADER,
        response=[202],
        required=True,
        description="The URL of the queued analysis: poll it for progress and result.",
    ),
    OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        location=OpenApiParameter.HEADER,
        response=[429],
        required=True,
        description="Seconds to wait before trying again.",
    ),
]

ERROR_DESCRIPTIONS = {
    "400": "The request was refused: `detail` says why, `fields` names each bad field.",
    "401": "No token, or a wrong one.",
    "403": "Not allowed (a browser session without its CSRF token).",
    "404": "No such object among yours, no such page, or no such address.",
    "429": "Too many requests: wait `Retry-After` seconds.",
}


class ApiAutoSchema(AutoSchema):
    def get_override_parameters(self) -> list:
        return [*super().get_override_parameters(), *RESPONSE_HEADERS]

    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            if status not in responses:
                responses[status] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, ERROR_DESCRIPTIONS[status]), status
                )
        return operation

    def _error_statuses(self, operation: dict) -> list[str]:
        parameters = operation.get("parameters", [])
        statuses = []
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            statuses.append("400")
        if {} not in operation.get("security", [{}]):
            statuses += ["401", "403"]
        paginated = self._is_list_view() and self._get_paginator() is not None
        if paginated or any(p["in"] == "path" for p in parameters):
            statuses.append("404")
        if self.view.get_throttles():
            statuses.append("429")
        return statuses
