"""Training a detector: dataset → face crops → augmented batches → Keras fit → `.keras` + card.

`train(TrainConfig(...), progress=callback)` is what `manage.py train_model` runs. It
- indexes the dataset (`ml.datasets`), splits it by source video / identity, extracts faces once
  (cached, resumable) (`trainer`);
- balances the classes, or pairs every real face with a self-blended pseudo-fake of itself, and
  renders the batches (`examples`), degraded at random (`augment`);
- checkpoints every epoch and resumes from the last one (`checkpoints`); stops early when
  validation AUC has not improved for `patience` epochs and keeps the best epoch (`callbacks`),
  validation scoring through the platform's classifier code (`validation`);
- chooses the decision threshold on validation and writes `<name>.keras` and `<name>.card.json`
  with the real metrics, the dataset, the hardware and the training time (`card`).
"""

from ml.training.config import ProgressFn, TrainConfig, TrainResult
from ml.training.trainer import train

__all__ = ["ProgressFn", "TrainConfig", "TrainResult", "train"]
