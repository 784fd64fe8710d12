"""Full-size networks for memory checks, run in a child process so its peak is its own.

`python -m tests.support.fullsize build PATH` saves an EfficientNet-B7 at 380 px with random
weights (timing and memory only: such a model never scores a user's file) and makes its CPU
export, as installing does;
`python -m tests.support.fullsize score PATH N [H]` loads it as the worker does
(`ml.models.classify.FrameClassifier`), scores N random 380 px crops, draws Grad-CAM heatmaps of the
first H of them (none by default) and prints a JSON line with the process's peak resident memory.

`build-ufd PATH` writes OpenAI's full-size ViT-L/14 image encoder with random weights from the
recorded manifest (tests/fixtures/ufd) as a CLIP state dict beside a UFD head and converts them
with the platform's converter (`build_image_detector`, which the benchmarks use too); `score-ufd PATH N` loads the result as the worker does
(`ml.models.image_detector.ImageDetector`) and scores N random 1080p frames.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

B7_CARD = {
    "name": "b7-timing-only",
    "version": "random",
    "arch": "efficientnet_b7",
    "kind": "frame",
    "input_size": 380,
    "preprocessing": "raw255",
    "threshold": 0.5,
}


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not getrusage's ru_maxrss: Linux carries the parent's
    peak into a child across fork and exec, so a child of a large test process would report
    the parent's memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(path: str) -> None:
    """The model saved, then its CPU export made, as `install_model` makes it."""
    from ml.models import litert
    from ml.models.archs import get_arch
    from ml.models.checksum import file_sha256

    get_arch("efficientnet_b7").build(init="none").save(path)
    if litert.enabled():
        litert.export(Path(path), file_sha256(path))


def b7_spec(path: str):
    from ml.models.cards import ModelSpec
    from ml.models.checksum import file_sha256

    name, version = B7_CARD["name"], B7_CARD["version"]
    return ModelSpec(name=name, version=version, sha256=file_sha256(path), path=path, card=B7_CARD)


def score(path: str, count: int, heatmaps: int = 0) -> dict:
    from ml.models.classify import FrameClassifier

    start = time.perf_counter()
    classifier = FrameClassifier.load(b7_spec(path))
    loaded = time.perf_counter()
    crops = np.random.default_rng(0).integers(0, 256, (count, 380, 380, 3), np.uint8)
    scores = classifier.predict(crops)
    scored = time.perf_counter()
    peak_scoring = peak_rss_mb()
    heats = [classifier.heatmap(crop) for crop in crops[:heatmaps]]
    return {
        "crops": len(scores),
        "finite": bool(np.isfinite(scores).all()),
        "heatmaps": sum(h is not None and h.shape == (380, 380) for h in heats),
        "load_s": round(loaded - start, 2),
        "predict_s": round(scored - loaded, 2),
        "heatmaps_s": round(time.perf_counter() - scored, 2),
        "peak_rss_mb_scoring": round(peak_scoring),
        "peak_rss_mb": round(peak_rss_mb()),
    }


UFD_CARD = {"version": "random", "threshold": 0.5}


def build_image_detector(kind: str, path: str) -> dict:
    """A whole-image detector (`commfor` or `ufd`) at full size, random weights in the published
    layout from the recorded manifest, converted by the platform's converter; its card is
    written beside it and returned."""
    import tempfile
    from pathlib import Path

    from ml.models.convert import convert

    with tempfile.TemporaryDirectory() as tmp:
        source = _published_image_detector(kind, Path(tmp))
        card = convert(kind, source, Path(path))
    card = {**UFD_CARD, "name": f"{kind}-timing-only", **card}
    Path(path).with_suffix(".card.json").write_text(json.dumps(card, indent=2))
    return card


def _published_image_detector(kind: str, folder):
    from tests.fixtures.dfdc.synthetic import write_torch_checkpoint

    if kind == "commfor":
        from tests.fixtures.commfor import synthetic as commfor

        state = commfor.random_state_dict(commfor.read_manifest())
        return commfor.write_safetensors(folder / "model.safetensors", state)
    from tests.fixtures.ufd import synthetic

    manifest = synthetic.read_manifest("manifest_vit_l14.json")
    visual = [entry for entry in manifest if entry[0].startswith("visual.")]
    write_torch_checkpoint(folder / "ViT-L-14.pt", synthetic.random_state_dict(visual))
    write_torch_checkpoint(folder / "fc_weights.pth", synthetic.head_state())
    return folder


def score_ufd(path: str, count: int) -> dict:
    from pathlib import Path

    from ml.models.cards import ModelSpec
    from ml.models.checksum import file_sha256
    from ml.models.image_detector import ImageDetector

    card = json.loads(Path(path).with_suffix(".card.json").read_text())
    spec = ModelSpec(card["name"], card["version"], file_sha256(path), path, card)
    start = time.perf_counter()
    detector = ImageDetector.load(spec)
    loaded = time.perf_counter()
    frames = np.random.default_rng(0).integers(0, 256, (count, 1080, 1920, 3), np.uint8)
    scores = detector.predict_images(list(frames))
    return {
        "frames": len(scores),
        "finite": bool(np.isfinite(scores).all()),
        "load_s": round(loaded - start, 2),
        "predict_s": round(time.perf_counter() - loaded, 2),
        "peak_rss_mb": round(peak_rss_mb()),
    }


if __name__ == "__main__":
    command, model_path, *rest = sys.argv[1:]
    if command == "build":
        build(model_path)
    elif command == "build-ufd":
        build_image_detector("ufd", model_path)
    elif command == "score-ufd":
        print(json.dumps(score_ufd(model_path, *map(int, rest))))
    else:
        print(json.dumps(score(model_path, *map(int, rest))))
