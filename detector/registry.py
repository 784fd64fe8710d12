"""The model registry: which installed detector models new analyses use."""

from __future__ import annotations

from ml.cards import ModelSpec

from detector.models import DetectorModel


def model_spec(model: DetectorModel) -> ModelSpec:
    return ModelSpec(
        name=model.name,
        version=model.version,
        sha256=model.sha256,
        path=model.file_path,
        card=model.card,
        weight=model.ensemble_weight,
    )


def active_model_specs(*, kind: str = DetectorModel.Kind.FRAME) -> list[ModelSpec]:
    """The active models of one kind; several active frame models form an ensemble."""
    return [model_spec(m) for m in DetectorModel.objects.filter(active=True, kind=kind)]
