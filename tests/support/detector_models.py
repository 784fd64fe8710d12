"""`DetectorModel` rows: installed models as the registry would record them."""

from __future__ import annotations

from detector.models import DetectorModel
from ml.models.cards import ModelSpec


def detector_model_create(spec: ModelSpec | None = None, **fields) -> DetectorModel:
    """A DetectorModel row. From `spec` (a network a test saved): its name, version, file,
    checksum and card; without one, a placeholder row whose file nothing reads. `fields`
    override any column (active, kind, card...)."""
    values = {
        "name": "effnet",
        "version": "1",
        "arch": "efficientnet_b7",
        "file_path": "/models/effnet.keras",
        "sha256": "0" * 64,
    }
    if spec is not None:
        values.update(
            name=spec.name,
            version=spec.version,
            arch=spec.card.get("arch", ""),
            kind=spec.card.get("kind", DetectorModel.Kind.FRAME),
            file_path=spec.path,
            sha256=spec.sha256,
            card=spec.card,
        )
    return DetectorModel.objects.create(**{**values, **fields})
