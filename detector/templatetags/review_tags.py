"""Template helpers of the admin: the reviewers' queue on the admin home."""

from django import template

from detector.selectors import analysis_review_queue

register = template.Library()


@register.simple_tag
def review_queue_count() -> int:
    """How many flagged analyses wait for a reviewer's decision."""
    return analysis_review_queue().count()
