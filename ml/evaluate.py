"""Measuring a detector: frame- and video-level metrics, ROC and score-histogram plots.

Frame level scores every face crop; video level is the mean score of the crops of one file
(simpler than an analysis's confident strategy). Metrics come from scikit-learn; plots are PNGs
made with matplotlib's Agg backend (no display needed). The results are stored on the model card.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import metrics as skm

from ml.errors import ModelError
from ml.faces.framing import Framing, crop_from_landmarks
from ml.models.cards import ModelSpec
from ml.models.classify import FrameClassifier

# Keep probabilities away from 0 and 1 so log-loss stays finite for a confident mistake.
EPS = 1e-6


def equal_error_rate(labels: np.ndarray, scores: np.ndarray) -> float:
    """The rate where false positives and false negatives are equally frequent."""
    fpr, tpr, _ = skm.roc_curve(labels, scores)
    fnr = 1 - tpr
    i = int(np.nanargmin(np.abs(fnr - fpr)))
    return float((fpr[i] + fnr[i]) / 2)


def choose_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The threshold maximising Youden's J (TPR − FPR) on validation, kept inside (0.01, 0.99)."""
    labels, scores = np.asarray(labels), np.asarray(scores)
    if len(set(labels.tolist())) < 2:
        return 0.5
    fpr, tpr, thresholds = skm.roc_curve(labels, scores)
    best = thresholds[int(np.argmax(tpr - fpr))]
    return float(np.clip(best if np.isfinite(best) else 0.5, 0.01, 0.99))


def score_metrics(labels, scores, *, threshold: float) -> dict[str, Any]:
    """Every metric we report, for one set of labels (0 real, 1 fake) and fake probabilities."""
    labels = np.asarray(labels, dtype=int)
    scores = np.clip(np.asarray(scores, dtype=float), EPS, 1 - EPS)
    predicted = (scores >= threshold).astype(int)
    both = len(set(labels.tolist())) == 2
    tn, fp, fn, tp = skm.confusion_matrix(labels, predicted, labels=[0, 1]).ravel()
    return {
        "count": len(labels),
        "real": int((labels == 0).sum()),
        "fake": int((labels == 1).sum()),
        "threshold": float(threshold),
        "auc": float(skm.roc_auc_score(labels, scores)) if both else None,
        "average_precision": float(skm.average_precision_score(labels, scores)) if both else None,
        "eer": equal_error_rate(labels, scores) if both else None,
        "log_loss": float(skm.log_loss(labels, scores, labels=[0, 1])),
        "accuracy": float(skm.accuracy_score(labels, predicted)),
        "precision": float(skm.precision_score(labels, predicted, zero_division=0)),
        "recall": float(skm.recall_score(labels, predicted, zero_division=0)),
        "f1": float(skm.f1_score(labels, predicted, zero_division=0)),
        "confusion_matrix": {
            "tn": int(tn),
            "fp": int(fp),
            "fn": int(fn),
            "tp": int(tp),
        },
    }


def video_scores(labels, scores, groups) -> tuple[np.ndarray, np.ndarray]:
    """One (label, mean score) per video or photo."""
    per: dict[str, list] = {}
    for label, score, group in zip(labels, scores, groups, strict=True):
        per.setdefault(group, [label, []])[1].append(score)
    keys = sorted(per)
    return (
        np.array([per[k][0] for k in keys], dtype=int),
        np.array([float(np.mean(per[k][1])) for k in keys]),
    )


def evaluate_scores(labels, scores, groups, *, threshold: float) -> dict[str, Any]:
    v_labels, v_scores = video_scores(labels, scores, groups)
    return {
        "frame": score_metrics(labels, scores, threshold=threshold),
        "video": score_metrics(v_labels, v_scores, threshold=threshold),
    }


def write_plots(
    labels,
    scores,
    out_dir: Path | str,
    *,
    prefix: str = "",
    threshold: float | None = None,
) -> dict[str, str]:
    """Write the ROC curve and the score histogram; returns {"roc": path, "histogram": path}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels, scores = np.asarray(labels, dtype=int), np.asarray(scores, dtype=float)
    paths = {
        "roc": out_dir / f"{prefix}roc.png",
        "histogram": out_dir / f"{prefix}histogram.png",
    }

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    if len(set(labels.tolist())) == 2:
        fpr, tpr, _ = skm.roc_curve(labels, scores)
        ax.plot(fpr, tpr, label=f"AUC {skm.roc_auc_score(labels, scores):.3f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curve")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(paths["roc"])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 3.5), dpi=100)
    bins = np.linspace(0, 1, 26)
    ax.hist(scores[labels == 0], bins=bins, alpha=0.6, label="real")
    ax.hist(scores[labels == 1], bins=bins, alpha=0.6, label="fake")
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", linewidth=1, label="threshold")
    ax.set(xlabel="Fake probability", ylabel="Faces", title="Score histogram")
    ax.legend()
    fig.tight_layout()
    fig.savefig(paths["histogram"])
    plt.close(fig)
    return {k: str(v) for k, v in paths.items()}


def evaluate_model(
    spec: ModelSpec | dict[str, Any],
    samples,
    *,
    out_dir: Path | str,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Score the faces of a dataset (a list of `FaceSamples`) with an installed model.

    The model is loaded and scores exactly as for an upload (`ml.models.classify.FrameClassifier`:
    checksum, card, resizing, output handling, batches), on crops cut with the card's framing.
    Returns {"frame": {...}, "video": {...}, "plots": {...}} using the card's threshold.
    """
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec.from_dict(spec)
    if spec.card.get("kind") == "temporal":
        # Temporal models score whole face tracks; their metrics come from training's
        # track-level validation, stored on the card.
        raise ModelError(
            "evaluate_model measures frame models; a temporal model's metrics are those "
            "on its card from training."
        )
    classifier = FrameClassifier.load(spec)
    framing = Framing.from_card(spec.card)
    labels, scores, groups = [], [], []
    for done, sample in enumerate(samples, start=1):
        crops = np.stack(
            [
                crop_from_landmarks(framing, np.asarray(c), lm, size=classifier.input_size)
                for c, lm in zip(sample.crops, sample.landmarks, strict=True)
            ]
        )
        scores.extend(classifier.predict(crops, batch_size=batch_size).tolist())
        labels.extend([sample.item.label] * len(crops))
        groups.extend([str(sample.item.path)] * len(crops))
        if progress:
            progress(done, len(samples))
    threshold = classifier.threshold
    result = evaluate_scores(labels, scores, groups, threshold=threshold)
    result["plots"] = write_plots(labels, scores, out_dir, threshold=threshold)
    return result
