"""MTCNN boxes: the face framing of models trained on them (a card's framing ``detector: mtcnn``).

The DFDC winner cut its training and test faces around the boxes of facenet-pytorch's MTCNN,
thresholds 0.7, 0.8, 0.8, found on the frame halved, each coordinate doubled and truncated
(kernel_utils.py, FaceExtractor.process_videos). This module finds them the same way with the
`mtcnn` package (its weights ship inside its wheel; it runs on TensorFlow, imported only when
a card asks for this framing), after the scan and on the sampled frames only: the frames of
the people's kept samples are decoded again, in one pass, and MTCNN runs once per frame.

Each sample's tracked face (dlib's box) takes the MTCNN box that overlaps it most. Where MTCNN
finds no face there, the box is estimated from dlib's landmarks (`mapped_box`) and the crop is
marked approximate; the Report names those frames.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from PIL import Image

from ml.faces.boxes import iou
from ml.faces.detect import Face
from ml.faces.framing import Crop, CropSpec, box_cut
from ml.faces.people import Person
from ml.faces.scan import Sample
from ml.media import reader as media

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # x, y, w, h in frame pixels; x and y may be negative

# facenet-pytorch MTCNN(thresholds=[0.7, 0.8, 0.8]) as the DFDC winner built it; the other
# settings (min_face_size 20, factor 0.709) are the defaults of both packages.
THRESHOLDS = {"threshold_pnet": 0.7, "threshold_rnet": 0.8, "threshold_onet": 0.8}
DOWNSCALE = 2  # the winner detected on the frame halved
FRAMES_PER_BATCH = 8  # frames of one size detected together: bounded memory
# dlib's box lies inside MTCNN's (brows to chin against forehead to chin): the same face
# overlaps at IoU 0.5 to 0.7 (benchmarks/fit_mtcnn_mapping.py); another face hardly at all.
MIN_MATCH_IOU = 0.3

# MTCNN's box from dlib's 68 landmarks, where MTCNN finds no face: centre and size as
# multiples of the landmarks' bounding box (width lw, height lh, centre cx, cy):
#   centre = (cx + X_SHIFT * lw, cy + Y_SHIFT * lh), size = (WIDTH * lw, HEIGHT * lh).
# Fitted by benchmarks/fit_mtcnn_mapping.py: medians over the 175 faces both detectors found
# (the astronaut at 4 sizes and 3 positions on a 1280 x 720 canvas, and every 5th frame of the
# 11 GRID clips in shared/realfaces); the estimate overlaps MTCNN's box at IoU 0.89 and 0.93
# on average there (docs/models.md, "Framing").
X_SHIFT = -0.0189
Y_SHIFT = -0.1765
WIDTH = 0.9675
HEIGHT = 1.2946


def cut_deferred(
    path: str, media_type: str, people: list[Person], specs: list[CropSpec], warnings: list[str]
) -> None:
    """Add to each kept sample of `people` its crop for every spec framed by MTCNN boxes, cut
    from its frame; a warning names each person some of whose crops were framed approximately."""
    specs = [s for s in specs if s.framing.deferred]
    samples = [sample for person in people for sample in person.samples]
    if not specs or not samples:
        return
    by_frame: dict[int, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_frame[sample.frame_index].append(sample)
    for frames in _batches(_frames(path, media_type, by_frame), FRAMES_PER_BATCH):
        boxes = detect([rgb for _, rgb in frames])
        for (index, rgb), found in zip(frames, boxes, strict=True):
            for sample in by_frame[index]:
                _cut(sample, rgb, found, specs)
    for person in people:
        # A frame the second decode did not give back (a stream that ends early) has no crop.
        person.samples = [s for s in person.samples if specs[0] in s.crops]
        missed = sum(sample.crops[specs[0]].approximate for sample in person.samples)
        if missed:
            warnings.append(
                f"Face {person.track_id}: MTCNN found no face in {missed} of "
                f"{len(person.samples)} sampled frames; there the crop's box was estimated "
                "from dlib's landmarks (approximate framing)."
            )


def _cut(sample: Sample, rgb: np.ndarray, found: list[Box], specs: list[CropSpec]) -> None:
    box = match(sample.face.box, found)
    approximate = box is None
    if box is None:
        box = mapped_box(sample.face)
    for spec in specs:
        crop = box_cut(rgb, box, size=spec.size, margin=spec.framing.margin)
        sample.crops[spec] = Crop(crop.pixels, crop.box, approximate)


def _frames(
    path: str, media_type: str, by_frame: dict[int, list[Sample]]
) -> Iterator[tuple[int, np.ndarray]]:
    if media_type == "image":
        yield 0, media.load_image(path)
        return
    for frame in media.iter_frames_at(path, by_frame):
        yield frame.index, frame.rgb


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@functools.cache
def _mtcnn() -> Any:
    from mtcnn import MTCNN  # TensorFlow: only when a card asks for MTCNN framing

    return MTCNN(stages="face_and_landmarks_detection")


def detect(frames: list[np.ndarray]) -> list[list[Box]]:
    """Every MTCNN face box of each RGB frame (frames of one size), as the DFDC winner found
    them: on the frame halved (PIL's bicubic resize), each coordinate doubled and truncated."""
    if not frames:
        return []
    halves = [_halved(rgb) for rgb in frames]
    rows = _mtcnn().detect_faces(
        halves, fit_to_image=False, box_format="xyxy", output_type="numpy", **THRESHOLDS
    )
    found: list[list[Box]] = [[] for _ in frames]
    rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
    for row in rows if rows.shape[-1] >= 5 else []:  # image, x1, y1, x2, y2, confidence...
        x1, y1, x2, y2 = (int(v * DOWNSCALE) for v in row[1:5])
        found[int(row[0])].append((x1, y1, x2 - x1, y2 - y1))
    return found


def _halved(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    size = (max(1, width // DOWNSCALE), max(1, height // DOWNSCALE))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BICUBIC))


def match(tracked: Box, found: list[Box]) -> Box | None:
    """The MTCNN box that overlaps the tracked face most, if it overlaps enough."""
    if not found:
        return None
    best = max(found, key=lambda box: iou(tracked, box))
    return best if iou(tracked, best) >= MIN_MATCH_IOU else None


def mapped_box(face: Face) -> Box:
    """MTCNN's box estimated from dlib's landmarks (the fitted mapping above)."""
    points = np.asarray(face.landmarks, dtype=np.float64)
    (x1, y1), (x2, y2) = points.min(axis=0), points.max(axis=0)
    lw, lh = x2 - x1, y2 - y1
    cx, cy = (x1 + x2) / 2 + X_SHIFT * lw, (y1 + y2) / 2 + Y_SHIFT * lh
    w, h = WIDTH * lw, HEIGHT * lh
    return int(cx - w / 2), int(cy - h / 2), int(w), int(h)
