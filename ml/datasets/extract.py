"""Face extraction for training, cached on disk so that a second run does not extract again.

For each item we keep up to `frames` faces (evenly spaced frames of a video; the photo itself for
an image): a loose square crop around the largest face, and its 68 landmarks in crop coordinates.
Training aligns the final crop from these with `ml.faces.detect.align_crop` — the same alignment analyses
use — and self-blending (`ml.training.sbi`) needs the landmarks.

The cache is keyed by the file's content hash plus the extraction settings, two .npy files per
item (crops, landmarks), written atomically: an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ml.datasets.base import Item
from ml.errors import MediaError
from ml.models.checksum import file_sha256

CACHE_VERSION = 1
LOOSE_FACTOR = 2.0  # loose crop side / landmark box side: room for alignment, shifts and SBI


def loose_size_for(input_size: int) -> int:
    """Loose crop side for a network input size: 1.4 times the input, rounded up to a multiple
    of 8, so the aligned face cut from it later is never upsampled."""
    return int(np.ceil(input_size * 1.4 / 8) * 8)


@dataclass
class FaceSamples:
    item: Item
    crops: np.ndarray  # (N, L, L, 3) uint8 loose crops
    landmarks: np.ndarray  # (N, 68, 2) float32, crop coordinates


def _frames(item: Item, count: int) -> Iterator[np.ndarray]:
    from ml.media.reader import iter_frames_at, load_image, probe, sample_indices, sniff

    if not item.is_video:
        yield load_image(item.path)
        return
    # The container's count is cheap; count by decoding only when the container does not say.
    total = sniff(item.path).frame_count or probe(item.path).frame_count or 0
    for frame in iter_frames_at(item.path, sample_indices(total, count)):
        yield frame.rgb


def loose_crop(rgb: np.ndarray, landmarks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A size×size crop centred on the landmarks, LOOSE_FACTOR times their extent; black outside."""
    lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
    centre, side = (lo + hi) / 2, float((hi - lo).max()) * LOOSE_FACTOR
    scale = size / max(side, 1.0)
    matrix = np.array(
        [
            [scale, 0, size / 2 - scale * centre[0]],
            [0, scale, size / 2 - scale * centre[1]],
        ],
        dtype=np.float32,
    )
    crop = cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_AREA, borderValue=0)
    return crop, (landmarks * scale + matrix[:, 2]).astype(np.float32)


def _extract(
    item: Item, analyzer, *, frames: int, loose_size: int
) -> tuple[np.ndarray, np.ndarray]:
    crops, marks = [], []
    for rgb in _frames(item, frames):
        faces = analyzer.detect(rgb)
        if not faces:
            continue
        face = max(faces, key=lambda f: f.box[2] * f.box[3])
        crop, lm = loose_crop(rgb, np.asarray(face.landmarks, np.float32), loose_size)
        crops.append(crop)
        marks.append(lm)
    if not crops:
        return np.zeros((0, loose_size, loose_size, 3), np.uint8), np.zeros((0, 68, 2), np.float32)
    return np.stack(crops), np.stack(marks)


def _cache_path(cache_dir: Path, digest: str, frames: int, loose_size: int) -> Path:
    """The crops file of one item; its landmarks sit next to it. Written last, so it marks done."""
    return cache_dir / digest[:2] / f"{digest}-v{CACHE_VERSION}-f{frames}-s{loose_size}.crops.npy"


def _landmarks_path(crops_path: Path) -> Path:
    return crops_path.with_name(crops_path.name.replace(".crops.npy", ".landmarks.npy"))


def extract_faces(
    items: list[Item],
    cache_dir: Path | str,
    *,
    frames: int = 32,
    loose_size: int = 256,
    analyzer=None,
    progress: Callable[[int, int], None] | None = None,
) -> list[FaceSamples]:
    """Faces of every item (items without a detectable face are left out), cached on disk."""
    cache_dir = Path(cache_dir)
    results = []
    for done, item in enumerate(items, start=1):
        path = _cache_path(cache_dir, file_sha256(item.path), frames, loose_size)
        if path.is_file():
            # Memory-mapped: a large dataset is read from disk as batches need it.
            crops = np.load(path, mmap_mode="r")
            marks = np.load(_landmarks_path(path))
        else:
            if analyzer is None:
                from ml.faces.detect import FaceAnalyzer

                analyzer = FaceAnalyzer()
            try:
                crops, marks = _extract(item, analyzer, frames=frames, loose_size=loose_size)
            except MediaError:
                crops = np.zeros((0, loose_size, loose_size, 3), np.uint8)
                marks = np.zeros((0, 68, 2), np.float32)
            _save_atomic(path, crops, marks)
        if len(crops):
            results.append(FaceSamples(item=item, crops=crops, landmarks=marks))
        if progress:
            progress(done, len(items))
    return results


def _save_atomic(path: Path, crops: np.ndarray, landmarks: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, array in ((_landmarks_path(path), landmarks), (path, crops)):
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, array)
        os.replace(tmp, target)
