"""Old addresses that moved: they answer 308, so clients keep their method and body."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseRedirectBase
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt


class HttpResponsePermanentRedirectKeepingMethod(HttpResponseRedirectBase):
    status_code = 308


def moved_to(pattern_name: str) -> Callable[..., HttpResponse]:
    """A view that sends every request on to the URL named `pattern_name` (same arguments and
    query string). It acts on nothing itself, so it needs no CSRF check; the new address
    checks the request as usual."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        url = reverse(pattern_name, kwargs=kwargs)
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirectKeepingMethod(f"{url}?{query}" if query else url)

    return view
