"""Template helpers for rendering a stored Report (the result partial and printable report)."""

from django import template

from detector.presenters import analysis_headline
from ml.verdict import policy

register = template.Library()


@register.simple_tag
def blink_reference() -> dict[str, float]:
    """Published human blink rates, from the one place the verdict reads them."""
    return {
        "reading": policy.HUMAN_BLINK_RATE_READING,
        "rest": policy.HUMAN_BLINK_RATE_REST,
        "talking": policy.HUMAN_BLINK_RATE_TALKING,
    }


@register.filter
def percent(value) -> str:
    """0.873 → "87 %"; empty for a missing value."""
    if value is None or value == "":
        return ""
    return f"{float(value) * 100:.0f} %"


@register.filter
def seconds(value) -> str:
    if value is None or value == "":
        return ""
    return f"{float(value):.2f} s"


@register.simple_tag
def headline(analysis) -> dict:
    """The answer a page leads with (`presenters.analysis_headline`)."""
    return analysis_headline(analysis=analysis)
