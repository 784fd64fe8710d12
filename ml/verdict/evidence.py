"""Evidence: what each signal found, as items with a stable reason code.

A signal (the classifier, the temporal model, blinks, face quality, ...) states what it found as
`Evidence`: a code such as `classifier.above_threshold` or `blink.rate_far_below`, the person it
is about (or the whole file), the values behind it and the sentence a person reads. Fusion
decides from codes and values (`ml/verdict/policy.py` says which codes may do what), the Report
carries each code next to its sentence, and review flags read codes, never prose. Every code
is listed in docs/verdict.md; each module that emits codes declares them in its `CODES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Evidence:
    code: str  # "<signal>.<finding>"; stable across versions: scripts and flags match on it
    text: str  # the plain-language sentence shown to people
    subject: int | None = None  # the person (face number) it is about; None: the whole file
    params: dict[str, Any] = field(default_factory=dict)  # the values the sentence states

    @property
    def signal(self) -> str:
        return self.code.partition(".")[0]

    def prefixed(self, prefix: str) -> Evidence:
        """The same finding, its sentence led by `prefix` (e.g. naming the person)."""
        return replace(self, text=prefix + self.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "signal": self.signal,
            "subject": self.subject,
            "params": dict(self.params),
            "text": self.text,
        }


def codes(evidence: Iterable[Evidence | dict[str, Any]]) -> set[str]:
    """The reason codes among evidence items or their stored dicts."""
    return {e["code"] if isinstance(e, dict) else e.code for e in evidence}
