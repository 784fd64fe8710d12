"""Dataset layouts from generated miniature trees; the split never leaks a video or a person;
face extraction is cached by content and not repeated."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from ml.datasets import detect_layout, load_dataset, split_items
from ml.datasets.base import FAKE, REAL, Item
from ml.datasets.extract import extract_faces
from ml.errors import MediaError


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00")
    return path


def write_face_image(path: Path, shift: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.roll(skimage.data.astronaut()[:384, 64:448], shift, axis=1)
    cv2.imwrite(str(path), cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    return path


def write_face_video(path: Path, frames: int = 12) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = cv2.resize(skimage.data.astronaut()[:384, 64:448], (192, 192))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (192, 192))
    for i in range(frames):
        writer.write(cv2.cvtColor(np.roll(rgb, i, axis=1), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def by_name(items):
    return {i.path.name: i for i in items}


def test_folders_layout(tmp_path):
    touch(tmp_path / "real" / "a.jpg")
    touch(tmp_path / "real" / "clip1" / "f1.png")
    touch(tmp_path / "real" / "clip1" / "f2.png")
    touch(tmp_path / "fake" / "b.mp4")
    touch(tmp_path / "fake" / "notes.txt")
    assert detect_layout(tmp_path) == "folders"
    dataset = load_dataset(tmp_path)
    items = by_name(dataset.items)
    assert set(items) == {"a.jpg", "f1.png", "f2.png", "b.mp4"}
    assert items["a.jpg"].label == REAL and items["b.mp4"].label == FAKE
    # Frames of one clip share a group: they can never straddle the split.
    assert items["f1.png"].split_key == items["f2.png"].split_key != items["a.jpg"].split_key
    assert dataset.counts() == {"real": 3, "fake": 1, "test_reserved": 0, "videos": 1}


def test_faceforensics_layout_groups_swapped_pairs(tmp_path):
    for vid in ("000", "003", "010", "020"):
        touch(tmp_path / "original_sequences/youtube/c23/videos" / f"{vid}.mp4")
    for method in ("Deepfakes", "FaceSwap"):
        for pair in ("000_003", "003_000", "010_020", "020_010"):
            touch(tmp_path / "manipulated_sequences" / method / "c23/videos" / f"{pair}.mp4")
    touch(tmp_path / "manipulated_sequences/Deepfakes/c40/videos/000_003.mp4")
    assert detect_layout(tmp_path) == "faceforensics"
    everything = load_dataset(tmp_path)
    assert everything.counts()["real"] == 4 and everything.counts()["fake"] == 8
    only = load_dataset(tmp_path, methods=["FaceSwap"], compression="c23")
    assert only.counts()["fake"] == 4
    assert all("FaceSwap" in str(i.path) for i in only.items if i.label == FAKE)
    groups = {i.path.stem: i.split_key for i in only.items}
    assert groups["000"] == groups["003"] == groups["000_003"] == groups["003_000"]
    assert groups["000"] != groups["010"]
    with pytest.raises(MediaError, match="compression"):
        load_dataset(tmp_path, compression="c99")


def test_dfdc_layout_groups_fakes_with_their_original(tmp_path):
    for part in ("dfdc_train_part_0", "dfdc_train_part_1"):
        folder = tmp_path / part
        touch(folder / "orig.mp4")
        touch(folder / "fake1.mp4")
        touch(folder / "fake2.mp4")
        meta = {
            "orig.mp4": {"label": "REAL", "split": "train"},
            "fake1.mp4": {"label": "FAKE", "split": "train", "original": "orig.mp4"},
            "fake2.mp4": {"label": "FAKE", "split": "train", "original": "orig.mp4"},
            "missing.mp4": {"label": "FAKE", "split": "train", "original": "orig.mp4"},
        }
        (folder / "metadata.json").write_text(json.dumps(meta))
    assert detect_layout(tmp_path) == "dfdc"
    items = load_dataset(tmp_path).items
    assert len(items) == 6  # the file missing on disk is skipped
    first = [i for i in items if i.path.parent.name == "dfdc_train_part_0"]
    assert {i.split_key for i in first} == {"orig"}
    assert sorted(i.label for i in first) == [REAL, FAKE, FAKE]


def test_celebdf_layout_honours_the_official_test_list(tmp_path):
    for name in ("id0_0000.mp4", "id0_0001.mp4", "id1_0000.mp4"):
        touch(tmp_path / "Celeb-real" / name)
    touch(tmp_path / "YouTube-real" / "00000.mp4")
    for name in ("id0_id1_0000.mp4", "id1_id0_0000.mp4", "id0_id1_0001.mp4"):
        touch(tmp_path / "Celeb-synthesis" / name)
    (tmp_path / "List_of_testing_videos.txt").write_text(
        "1 Celeb-real/id0_0001.mp4\n0 Celeb-synthesis/id0_id1_0001.mp4\n"
    )
    assert detect_layout(tmp_path) == "celebdf"
    dataset = load_dataset(tmp_path)
    items = by_name(dataset.items)
    assert items["id0_0001.mp4"].subset == "test" and items["id0_id1_0001.mp4"].subset == "test"
    assert items["id0_0000.mp4"].subset == "train"
    assert items["id0_id1_0000.mp4"].identity == "id0" and items["id0_id1_0000.mp4"].label == FAKE
    assert dataset.counts()["test_reserved"] == 2
    train, val = split_items(dataset.items, val_fraction=0.5, seed=1)
    used = {i.path.name for i in train + val}
    assert "id0_0001.mp4" not in used and "id0_id1_0001.mp4" not in used


def test_unknown_layout_is_refused_with_guidance(tmp_path):
    touch(tmp_path / "something" / "x.jpg")
    with pytest.raises(MediaError, match="real/ and fake/"):
        detect_layout(tmp_path)
    with pytest.raises(MediaError, match="does not exist"):
        detect_layout(tmp_path / "absent")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_is_by_group_and_keeps_both_classes(seed):
    items = []
    for person in range(10):
        for video in range(3):
            for frame in range(4):
                items.append(
                    Item(
                        path=Path(f"/d/p{person}/v{video}/f{frame}.png"),
                        label=person % 2,
                        source_id=f"p{person}v{video}",
                        identity=f"p{person}",
                        group=f"p{person}",
                    )
                )
    train, val = split_items(items, val_fraction=0.2, seed=seed)
    assert len(train) + len(val) == len(items)
    assert {i.identity for i in train}.isdisjoint({i.identity for i in val})
    assert {i.label for i in val} == {REAL, FAKE} and {i.label for i in train} == {
        REAL,
        FAKE,
    }
    assert split_items(items, val_fraction=0.2, seed=seed) == (train, val)  # reproducible


def test_extraction_is_cached_and_resumable(tmp_path):
    root = tmp_path / "data"
    image = write_face_image(root / "real" / "photo.png")
    video = write_face_video(root / "real" / "clip.avi", frames=12)
    write_face_image(root / "real" / "copy.png")  # same content as photo.png: one cache entry
    items = load_dataset(root).items
    cache = tmp_path / "cache"

    samples = extract_faces(items, cache, frames=4, loose_size=96)
    by_file = {s.item.path: s for s in samples}
    assert by_file[image].crops.shape == (1, 96, 96, 3)
    assert by_file[video].crops.shape == (4, 96, 96, 3)
    assert by_file[video].landmarks.shape == (4, 68, 2)
    # Landmarks are in crop coordinates: the face sits in the middle of the loose crop.
    centre = by_file[image].landmarks[0].mean(axis=0)
    assert np.all(np.abs(centre - 48) < 20)
    entries = sorted(cache.rglob("*.crops.npy"))
    assert len(entries) == 2

    # A second run finds every face in the cache and never runs the detector.
    class NoDetector:
        def detect(self, rgb):
            raise AssertionError("extraction should have come from the cache")

    again = extract_faces(items, cache, frames=4, loose_size=96, analyzer=NoDetector())
    assert [s.item.path for s in again] == [s.item.path for s in samples]
    np.testing.assert_array_equal(again[0].crops, samples[0].crops)

    # Other settings are another cache entry (and do run the detector).
    extract_faces(items[:1], cache, frames=2, loose_size=64)
    assert len(sorted(cache.rglob("*.crops.npy"))) == 3


def test_items_without_a_face_are_left_out(tmp_path):
    root = tmp_path / "data"
    (root / "real").mkdir(parents=True)
    cv2.imwrite(str(root / "real" / "blank.png"), np.full((128, 128, 3), 127, np.uint8))
    samples = extract_faces(load_dataset(root).items, tmp_path / "cache", frames=2, loose_size=64)
    assert samples == []
