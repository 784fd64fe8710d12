"""The front door: what the product is, for signed-out visitors; signed-in users go to their history."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("detector:analysis-list")
    return render(request, "site/landing.html", {"retention_days": settings.MEDIA_RETENTION_DAYS})
