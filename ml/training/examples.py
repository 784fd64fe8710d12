"""Training examples and the batches Keras fits on.

An example is (sample index, crop index, label, self-blend?). Frame architectures learn from
single faces: class-balanced (the minority class drawn again every epoch), or with
pseudo_fakes="sbi" each real face beside a self-blended pseudo-fake of itself. Temporal
architectures learn from whole face tracks: one example is `sequence_length` crops spread
evenly over one video's faces, and every frame of a track gets the same augmentation
(independent per-frame noise would be flicker the network could learn instead).
"""

from __future__ import annotations

import numpy as np

from ml.datasets.extract import FaceSamples
from ml.errors import MediaError
from ml.faces.framing import Framing, crop_from_landmarks
from ml.models.archs import preprocess
from ml.models.classify import track_indices
from ml.training.augment import augment
from ml.training.sbi import self_blend

FRAMING = Framing()


Example = tuple[int, int, int, bool]


def frame_examples(samples: list[FaceSamples], *, sbi: bool) -> list[Example]:
    examples = []
    for s, sample in enumerate(samples):
        for c in range(len(sample.crops)):
            if sbi:
                if sample.item.label == 0:
                    examples += [(s, c, 0, False), (s, c, 1, True)]
            else:
                examples.append((s, c, sample.item.label, False))
    return examples


def balanced(examples: list[Example], rng: np.random.Generator) -> list[Example]:
    """All examples, plus minority-class examples drawn again until the classes are even."""
    by_label = {
        0: [e for e in examples if e[2] == 0],
        1: [e for e in examples if e[2] == 1],
    }
    small, large = sorted(by_label.values(), key=len)
    if not small:
        raise MediaError("Training needs both real and fake faces (or --pseudo-fakes sbi).")
    extra = [small[i] for i in rng.integers(0, len(small), len(large) - len(small))]
    out = examples + extra
    rng.shuffle(out)
    return out


def paired(examples: list[Example], rng: np.random.Generator) -> list[Example]:
    """Self-blended training: each real face and its pseudo-fake stay side by side in one batch,
    so every step compares a face with its own blended copy (as the SBI authors train)."""
    pairs = [examples[i : i + 2] for i in range(0, len(examples), 2)]
    rng.shuffle(pairs)
    return [e for pair in pairs for e in pair]


def render_face(samples, example: Example, size: int, rng: np.random.Generator, *, augmented: bool):
    s, c, _label, blend = example
    crop, landmarks = np.asarray(samples[s].crops[c]), samples[s].landmarks[c]
    if blend:
        crop, _ = self_blend(crop, landmarks, rng=rng)
    face = crop_from_landmarks(FRAMING, crop, landmarks, size=size)
    return augment(face, rng) if augmented else face


def track_examples(samples: list[FaceSamples]) -> list[Example]:
    """One example per item (a video's face track); the crop index is unused."""
    return [(s, 0, sample.item.label, False) for s, sample in enumerate(samples)]


def render_track(
    samples, example: Example, size: int, length: int, rng, *, augmented: bool
) -> np.ndarray:
    """`length` aligned crops spread evenly over one item's faces, augmented alike."""
    s = example[0]
    seed = int(rng.integers(1 << 31))
    return np.stack(
        [
            render_face(
                samples,
                (s, c, example[2], False),
                size,
                np.random.default_rng(seed),  # the same draws for every frame
                augmented=augmented,
            )
            for c in track_indices(len(samples[s].crops), length)
        ]
    )


def batches_class():
    import keras

    class FaceBatches(keras.utils.PyDataset):
        """Augmented, class-balanced batches; reshuffled (deterministically) every epoch."""

        def __init__(
            self,
            samples,
            examples,
            *,
            size,
            preprocessing,
            batch_size,
            seed,
            augmented,
            sbi,
            epoch,
            sequence_length=None,
        ):
            super().__init__()
            self.sequence_length = sequence_length  # set: examples are face tracks
            self.samples, self.examples = samples, examples
            self.size, self.preprocessing = size, preprocessing
            self.batch_size, self.seed, self.augmented = batch_size, seed, augmented
            # A resumed run continues the same sequence.
            self.sbi, self.epoch = sbi, epoch
            self._order = self._draw()

        def _draw(self):
            rng = np.random.default_rng([self.seed, self.epoch])
            return paired(self.examples, rng) if self.sbi else balanced(self.examples, rng)

        def __len__(self):
            return max(1, len(self._order) // self.batch_size)

        def __getitem__(self, index):
            rng = np.random.default_rng([self.seed, self.epoch, index])
            chosen = self._order[index * self.batch_size : (index + 1) * self.batch_size]
            faces = [self._render(e, rng) for e in chosen]
            labels = np.array([e[2] for e in chosen], dtype="float32")
            return preprocess(np.stack(faces), self.preprocessing), labels

        def _render(self, example, rng):
            if self.sequence_length:
                return render_track(
                    self.samples,
                    example,
                    self.size,
                    self.sequence_length,
                    rng,
                    augmented=self.augmented,
                )
            return render_face(self.samples, example, self.size, rng, augmented=self.augmented)

        def on_epoch_end(self):
            self.epoch += 1
            self._order = self._draw()

    return FaceBatches
