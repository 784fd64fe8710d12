"""The API side of the per-user upload budget (detector.upload_budget)."""

from __future__ import annotations

from rest_framework.throttling import BaseThrottle

from detector.api.errors import TooManyRequests
from detector.upload_budget import UploadBudgetSpent, upload_budget_spend


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
