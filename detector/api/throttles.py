"""The API side of the per-user upload budget (detector.upload_budget), and of the upload's
parsing: a body Django cannot parse (a file name too long for its part headers) gets the
web's specific message, as a 400 on the "file" field, and gives its budget back."""

from __future__ import annotations

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.throttling import BaseThrottle

from detector.api.errors import TooManyRequests
from detector.upload_budget import UploadBudgetSpent, upload_budget_spend
from detector.uploads import upload_parse_error_message


class UploadBudgetThrottle(BaseThrottle):
    """Uploads and re-analyses spend the same budget as the web's.

    Throttles run after authentication, before the body is parsed, so a refused upload
    costs no type check.
    """

    def allow_request(self, request, view) -> bool:
        try:
            upload_budget_spend(user=request.user)
        except UploadBudgetSpent as spent:
            # Raised here rather than returned as False so that the message says which budget.
            raise TooManyRequests(wait=spent.wait_s, detail=spent.message) from spent
        return True


class UploadMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as error:
            raise ValidationError({"file": [upload_parse_error_message(error.detail)]}) from error
