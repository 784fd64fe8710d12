"""How close the `mtcnn` package's boxes (ml/faces/mtcnn_boxes.py) come to the DFDC winner's:
facenet-pytorch's MTCNN as its kernel_utils.py runs it, on the same frames.

facenet-pytorch needs PyTorch, which the platform does not install, so the measure runs in
three steps, the second in a separate, temporary virtual environment holding facenet-pytorch
(never in requirements.txt):

    .venv/bin/python -m benchmarks.mtcnn_reference frames /tmp/mtcnn-ref   # frames + our boxes
    /tmp/mtcnn-venv/bin/python benchmarks/mtcnn_reference.py facenet /tmp/mtcnn-ref
    .venv/bin/python -m benchmarks.mtcnn_reference compare /tmp/mtcnn-ref

Frames: the astronaut photo (skimage.data.astronaut()) as it is and placed on a 1280 x 720
canvas at 4 sizes and 3 positions (benchmarks/fit_mtcnn_mapping.py), and every 5th frame of the
GRID clips in shared/realfaces. The results are in docs/models.md ("Framing") and on the
dfdc-b7 card (framing_note).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

FRAMES = "frames.npz"


def write_frames(folder: Path) -> None:
    """The frames, and the boxes ml/faces/mtcnn_boxes.py finds on them."""
    from skimage import data

    from benchmarks.fit_mtcnn_mapping import astronaut_frames, clip_frames
    from ml.faces.mtcnn_boxes import detect

    grid = Path(__file__).resolve().parents[2] / "shared" / "realfaces" / "grid"
    sets = {"astronaut": [data.astronaut(), *astronaut_frames()], "realfaces": clip_frames(grid, 5)}
    folder.mkdir(parents=True, exist_ok=True)
    frames = {f"{name}_{i:03d}": rgb for name, items in sets.items() for i, rgb in enumerate(items)}
    np.savez_compressed(folder / FRAMES, **frames)
    ours = {key: [list(box) for box in detect([rgb])[0]] for key, rgb in frames.items()}
    (folder / "ours.json").write_text(json.dumps(ours))


def facenet_boxes(folder: Path) -> None:
    """facenet-pytorch's boxes, found as the winner's FaceExtractor finds them."""
    from facenet_pytorch.models.mtcnn import MTCNN
    from PIL import Image

    detector = MTCNN(margin=0, thresholds=[0.7, 0.8, 0.8], device="cpu")
    theirs = {}
    for key, rgb in np.load(folder / FRAMES).items():
        image = Image.fromarray(rgb.astype(np.uint8))
        image = image.resize(size=[s // 2 for s in image.size])
        boxes, _ = detector.detect(image, landmarks=False)
        found = []
        for box in boxes if boxes is not None else []:
            x1, y1, x2, y2 = (int(b * 2) for b in box)
            found.append([x1, y1, x2 - x1, y2 - y1])
        theirs[key] = found
    (folder / "theirs.json").write_text(json.dumps(theirs))


def compare(folder: Path) -> None:
    from ml.faces.boxes import iou

    ours = json.loads((folder / "ours.json").read_text())
    theirs = json.loads((folder / "theirs.json").read_text())
    for name in ("astronaut", "realfaces"):
        keys = [k for k in theirs if k.startswith(name)]
        overlaps, offsets, relative, missed, extra = [], [], [], 0, 0
        for key in keys:
            unmatched = [tuple(b) for b in ours[key]]
            for box in theirs[key]:
                best = max(unmatched, key=lambda b: iou(b, box), default=None)
                if best is None or iou(best, box) < 0.3:
                    missed += 1
                    continue
                unmatched.remove(best)
                overlaps.append(iou(best, box))
                corner = np.abs(np.subtract(_corners(best), _corners(box)))
                offsets.append(corner)
                relative.append(corner.max() / box[2])
            extra += len(unmatched)
        offsets = np.array(offsets)
        print(
            f"{name}: {len(keys)} frames, {len(overlaps)} faces found by both, "
            f"{missed} only by facenet-pytorch, {extra} only by mtcnn; IoU mean "
            f"{np.mean(overlaps):.3f} min {np.min(overlaps):.3f}; corner offset mean "
            f"{offsets.mean():.1f} px, max {offsets.max():.0f} px; worst corner per face "
            f"{np.mean(relative):.1%} of the box width on average"
        )


def _corners(box) -> tuple[int, int, int, int]:
    x, y, w, h = box
    return x, y, x + w, y + h


if __name__ == "__main__":
    step, folder = sys.argv[1], Path(sys.argv[2])
    {"frames": write_frames, "facenet": facenet_boxes, "compare": compare}[step](folder)
