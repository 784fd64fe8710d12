"""The policy card a result was judged under, as JSON: for staff, and for the owners of
results judged under it (the result page links here)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from detector.models import Analysis
from detector.policy_cards import policy_card_read


@login_required
@require_GET
def policy_card_json(request: HttpRequest, version: int) -> JsonResponse:
    judged = Analysis.objects.filter(owner=request.user, result__policy_version=str(version))
    if not (request.user.is_staff or judged.exists()):
        raise Http404("No such policy card.")
    card = policy_card_read(str(version))
    if card is None:
        raise Http404("No such policy card.")
    return JsonResponse(card, json_dumps_params={"indent": 2})
