"""Old addresses that moved: they answer 308, so clients keep their method and body."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt


def moved_to(pattern_name: str) -> Callable[..., HttpResponse]:
    """A view that sends every request on to the URL named `pattern_name` (same arguments and
    query string). It acts on nothing itself, so it needs no CSRF check; the new address
    checks the request as usual."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        url = reverse(pattern_name, kwargs=kwargs)
        query = request.META.get("QUERY_STRING", "")
        target = f"{url}?{query}" if query else url
        return HttpResponsePermanentRedirect(target, preserve_request=True)  # 308

    return view
