"""Reads of analyses for the pages: always limited to the user's own analyses.

Staff see everyone's analyses in the admin only; these selectors never widen the owner filter.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404

from detector.models import Analysis

# The sort keys the history accepts, mapped to their ordering.
SORTS = {
    "newest": ("-created",),
    "oldest": ("created",),
    "name": ("original_filename", "-created"),
    "probability": (F("fake_probability").desc(nulls_last=True), "-created"),
    "status": ("status", "-created"),
}
DEFAULT_SORT = "newest"


def analysis_list_for(*, user: AbstractBaseUser, filters: dict[str, Any] | None = None) -> QuerySet:
    """The user's analyses, filtered and sorted. Unknown or empty filters are ignored.

    filters: q (filename contains), status, verdict, media_type, date_from, date_to
    (dates, inclusive) and sort (one of SORTS).
    """
    filters = filters or {}
    analyses = Analysis.objects.filter(owner=user)
    if filters.get("q"):
        analyses = analyses.filter(original_filename__icontains=filters["q"])
    for field in ("status", "verdict", "media_type"):
        if filters.get(field):
            analyses = analyses.filter(**{field: filters[field]})
    if filters.get("date_from"):
        analyses = analyses.filter(created__date__gte=filters["date_from"])
    if filters.get("date_to"):
        analyses = analyses.filter(created__date__lte=filters["date_to"])
    return analyses.order_by(*SORTS.get(filters.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT]))


def analysis_get_for(*, user: AbstractBaseUser, pk) -> Analysis:
    """The user's own analysis; Http404 for anyone else's, so others' ids reveal nothing."""
    return get_object_or_404(Analysis, pk=pk, owner=user)


def analysis_pick_for(*, user: AbstractBaseUser, pks: list) -> QuerySet:
    """The user's analyses among the given ids (for bulk actions); others' ids drop out."""
    return Analysis.objects.filter(owner=user, pk__in=pks)
