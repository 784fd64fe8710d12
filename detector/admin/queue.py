"""The job queue dashboard (django-rq) for queue operators only.

django-rq lets any staff account in: every user's analysis ids and job arguments, and buttons
that re-enqueue or delete jobs. A reviewer is staff, so here the dashboard, at `/admin/rq/` and
under the admin index (`RQ_SHOW_ADMIN_LINK`), is for superusers and holders of django-rq's own
permission, "django_rq.admin" (the Operator group, detector/migrations/0003_roles.py), and
answers 403 to other staff. The stats JSON still accepts `RQ_API_TOKEN` for monitoring.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from secrets import compare_digest

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_rq import settings as rq_settings
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

QUEUE_PERMISSION = "django_rq.admin"


def may_operate_queue(user) -> bool:
    return bool(
        user.is_active and user.is_staff and (user.is_superuser or user.has_perm(QUEUE_PERMISSION))
    )


def _bearer_token_matches(request: HttpRequest) -> bool:
    expected = rq_settings.get_api_token()
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(expected and given and compare_digest(expected, given))


def operator_only(view: Callable) -> Callable:
    """Staff without the permission get 403; anyone else meets django-rq's own checks (the
    sign-in page for visitors, the API token for the stats JSON)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs):
        user = request.user
        refused = user.is_authenticated and user.is_staff and not may_operate_queue(user)
        if refused and not _bearer_token_matches(request):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


def queue_dashboard_urls() -> tuple[list, str]:
    """django_rq.urls, every view behind `operator_only`: for include() at /admin/rq/."""
    patterns = get_api_urlpatterns() + get_admin_urlpatterns()
    for pattern in patterns:
        pattern.callback = operator_only(pattern.callback)
    return patterns, "django_rq"


class QueueDashboardAdmin(QueueAdmin):
    """django-rq's admin entry, shown to and opened by queue operators only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_operate_queue(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return may_operate_queue(request.user)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return may_operate_queue(request.user)

    def get_urls(self):
        patterns = super().get_urls()
        for pattern in patterns:
            pattern.callback = operator_only(pattern.callback)
        return patterns


if admin.site.is_registered(Dashboard):
    admin.site.unregister(Dashboard)
if rq_settings.SHOW_ADMIN_LINK:
    admin.site.register(Dashboard, QueueDashboardAdmin)
