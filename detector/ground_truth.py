"""What a reviewer's decision says the truth is: the one mapping from review labels to labels.

The review metrics (`detector.metrics`), the `analysis.reviewed` callback and the owner's
email when a reviewer disagrees (`services.reviews`) all read it here.

- "Confirmed fake" → fake, "confirmed real" → real; "needs more review" is no truth at all.
- A review **contradicts** the verdict when its truth is the opposite confident verdict: fake
  called real, or real called fake. An inconclusive verdict claimed nothing, so no review
  contradicts it (it still counts in the metrics' inconclusive rate); neither does a failed
  analysis, which has no verdict.
"""

from __future__ import annotations

from detector.models import Analysis

FAKE = Analysis.Verdict.FAKE.value
REAL = Analysis.Verdict.REAL.value

TRUTH_OF_LABEL: dict[str, str] = {
    Analysis.ReviewLabel.CONFIRMED_FAKE.value: FAKE,
    Analysis.ReviewLabel.CONFIRMED_REAL.value: REAL,
}
# The review labels that are ground truth.
TRUTH_LABELS = tuple(TRUTH_OF_LABEL)
CONFIDENT_VERDICTS = (FAKE, REAL)


def review_truth(label: str) -> str | None:
    """ "fake" or "real" for a confirming label; None for "needs more review" or no label."""
    return TRUTH_OF_LABEL.get(label)


def review_contradicts(*, verdict: str, label: str) -> bool:
    """Whether a review with `label` says the confident `verdict` was wrong."""
    truth = review_truth(label)
    return truth is not None and verdict in CONFIDENT_VERDICTS and verdict != truth
