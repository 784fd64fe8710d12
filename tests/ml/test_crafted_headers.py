"""A crafted MP4 header (durations 0xFFFFFFFF, timescale 1) must not shrink what is examined.

Before: FFmpeg honoured the edit list the forged timescale stretched, 3 of 30 frames decoded
and were scored, fps and duration were null and the face was "seen for 3072.0 s".
"""

from __future__ import annotations

from dataclasses import asdict

import pytest

from ml.media import reader
from ml.pipeline import analyze
from tests.support.crafted import write_crafted_duration_mp4
from tests.support.mediagen import write_face_video
from tests.support.networks import save_spec

FRAMES = 30


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    path = tmp_path_factory.mktemp("crafted") / "crafted.mp4"
    return write_crafted_duration_mp4(path, seconds=3.0, fps=10)


def test_crafted_duration_header_is_not_believed_by_sniff_or_probe(crafted):
    info = reader.sniff(crafted)
    assert info.fps == 10.0 and info.frame_count == FRAMES and info.duration_s == 3.0
    assert "implausible timing" in info.warnings[0]
    assert reader.probe(crafted).frame_count == FRAMES


def test_crafted_duration_header_hides_no_frame_from_the_reader(crafted):
    frames = list(reader.iter_video_frames(crafted, target_fps=10))
    assert [f.index for f in frames] == list(range(FRAMES))
    assert frames[-1].t_s == pytest.approx(2.9)
    assert [f.index for f in reader.iter_frames_at(crafted, [0, 29])] == [0, 29]


def test_an_honest_header_gets_no_warning(tmp_path):
    info = reader.sniff(write_face_video(tmp_path / "plain.mp4", seconds=1.0, fps=10))
    assert info.fps == 10.0 and info.warnings == []


def test_crafted_duration_clip_gets_every_frame_scored_and_its_true_duration(crafted, tmp_path):
    spec = asdict(save_spec(tmp_path, "tiny", threshold=0.5))
    report = analyze(crafted, {"frames": FRAMES, "models": [spec]})
    assert report.frames_decoded == FRAMES
    assert report.frames_sampled == FRAMES
    assert len(report.faces[0].frame_scores) == FRAMES
    assert report.fps == 10.0 and report.duration_s == pytest.approx(3.0)
    assert any("implausible timing" in warning for warning in report.warnings)
    assert max(t for t, _ in report.frame_scores) < 3.0
