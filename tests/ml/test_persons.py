"""People across a clip: identity over track fragments, which faces may decide, blinks per
person and true frame times; real dlib, real TensorFlow, generated media."""

import json

import keras
import numpy as np
import pytest

from ml.faces import identity
from ml.faces import quality as face_quality
from ml.faces.detect import FaceAnalyzer
from ml.faces.framing import Framing
from ml.faces.people import even_over_time
from ml.faces.scan import EvenSample, FaceTrace
from ml.media.reader import iter_video_frames
from ml.models.cards import ModelSpec
from ml.models.checksum import file_sha256
from ml.models.classify import FrameClassifier
from ml.pipeline import analyze
from ml.verdict import policy
from tests.support import astronaut, mediagen
from tests.support.networks import STRONG_EVIDENCE

# --- identity on descriptors ---------------------------------------------------------------


def _fragment(first, last, centre, rng):
    return identity.Fragment(first, last, centre + 0.01 * rng.standard_normal((2, 128)))


def test_fragments_merge_by_descriptor_but_never_when_seen_together():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(128), rng.standard_normal(128)  # about 16 apart
    fragments = [
        _fragment(0, 10, a, rng),
        _fragment(0, 10, a, rng),  # a look-alike seen at the same time: someone else
        _fragment(20, 30, a, rng),  # comes back: the first person (closest, no overlap)
        _fragment(40, 50, b, rng),  # a stranger
    ]
    assert identity.group_fragments(fragments) == [[0, 2], [1], [3]]


def test_fragments_without_descriptors_stay_apart():
    empty = np.zeros((0, 128), np.float32)
    fragments = [identity.Fragment(0, 5, empty), identity.Fragment(9, 12, empty)]
    assert identity.group_fragments(fragments) == [[0], [1]]


def test_quality_reasons_name_the_failing_measure():
    def reason(quality, media_type="video"):
        return face_quality.not_judged(quality, subject=1, media_type=media_type)

    good = face_quality.Quality(64, 50, 0.95, 1.0, frames=45, seen_s=3.0)
    assert reason(good) is None
    small = reason(face_quality.Quality(30, 50, 0.95, 1.0, 45, 3.0))
    assert small.code == "quality.too_small" and small.text.startswith("too small")
    blurred = reason(face_quality.Quality(64, 7, 0.95, 1.0, 45, 3.0))
    assert blurred.code == "quality.too_blurred" and blurred.text.startswith("too blurred")
    assert blurred.params == {"sharpness": 7.0, "minimum": policy.MIN_JUDGED_SHARPNESS}
    brief = face_quality.Quality(64, 50, 0.95, 1.0, 8, 0.5)
    assert reason(brief).code == "quality.too_brief" and reason(brief).text.startswith("too brief")
    assert reason(brief, "image") is None


def test_frontalness_drops_as_the_head_turns():
    points = astronaut.astronaut_landmarks().copy()
    assert face_quality.frontalness(points) > 0.9
    points[30, 0] = points[0, 0] + 0.15 * (points[16, 0] - points[0, 0])  # nose near one ear
    assert face_quality.frontalness(points) < policy.MIN_JUDGED_FRONTALNESS


def test_a_persons_crops_are_spread_over_the_time_they_were_seen():
    times = [i / 10 for i in range(100)]  # 10 s scanned at 10 fps

    def fragment(first, last):
        trace = FaceTrace(1, [0, 0, 10, 10], EvenSample(8), first=first, last=last)
        for position in range(first, last + 1):
            trace.samples.offer((position, times[position], {}))
        return trace

    # 8 s, then 1 s: the short fragment should get about one pick of 9, not half of them.
    long, short = fragment(0, 79), fragment(89, 98)
    picked = [t for _, t, _ in even_over_time([long, short], times, 0.1, 9)]
    assert len(picked) == 9 and picked == sorted(picked)
    assert sum(t >= 8.9 for t in picked) == 1
    in_long = [t for t in picked if t < 8.0]
    # Spread over the long fragment, as evenly as the kept crops (every 0.8 s here) allow.
    assert in_long[0] < 1.0 and in_long[-1] > 6.0
    assert np.diff(in_long).max() <= 1.6 + 1e-9


# --- whole analyses ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cutaway_report(tmp_path_factory):
    # Four blinks: two before a one-second cut-away, two after it.
    path = tmp_path_factory.mktemp("media") / "cutaway.avi"
    mediagen.write_face_video(
        path, seconds=7, fps=15, blinks_at_s=(1.0, 2.2, 4.6, 6.0), absent=[(3.0, 4.0)]
    )
    return analyze(path)


def test_a_face_that_leaves_and_comes_back_is_one_person(cutaway_report):
    assert len(cutaway_report.faces) == 1
    person = cutaway_report.faces[0]
    assert len(person.fragments) == 2
    first, second = person.fragments
    assert first.end_s < 3.0 and 4.0 <= second.start_s < 4.3
    assert person.frames == first.frames + second.frames
    # On screen 7 s less the 1 s cut-away: the returning face is followed back to its first frame.
    assert person.judged and person.quality["seen_s"] == pytest.approx(6.0, abs=0.1)


def test_blinks_in_every_fragment_are_counted(cutaway_report):
    blink = cutaway_report.faces[0].blink
    assert blink.count == 4
    assert blink.timestamps_s == pytest.approx([1.0, 2.2, 4.6, 6.0], abs=0.15)
    # The second without a face is unmeasured, not open eyes: about 6 s measured of 7.
    assert blink.status == "ok" and blink.rate_per_minute == pytest.approx(4 / 6 * 60, rel=0.05)
    times = [t for t, _ in blink.ear_series]
    assert not any(3.05 < t < 4.0 for t in times)
    assert times[0] < 0.1 and times[-1] > 6.8  # the chart spans the whole clip
    assert cutaway_report.blink == blink
    assert any(r.startswith("Face 1: 4 blinks in 6 s") for r in cutaway_report.reasons)


def test_two_people_crossing_stay_two_people(tmp_path):
    report = analyze(mediagen.write_crossing_video(tmp_path / "cross.avi", seconds=3))
    judged = [f for f in report.faces if f.judged]
    assert [f.track_id for f in judged] == [1, 2]
    for person in judged:
        assert person.fragments[0].start_s == 0.0
        assert person.fragments[-1].end_s > 2.8
    # Anything else found (a suit badge scores as a face in a few frames) cannot decide.
    for other in report.faces[2:]:
        assert not other.judged and other.not_judged_reason.startswith("too brief")


def test_people_who_come_back_in_swapped_places_keep_their_identity(tmp_path):
    # The astronaut (left) and her mirror image (right); after a one-second cut-away they come
    # back in each other's places. Position says nothing now; only the descriptor can tell.
    path = mediagen.write_face_video(
        tmp_path / "swap.avi",
        seconds=5,
        fps=15,
        two_faces=True,
        absent=[(2.0, 3.0)],
        swap_from_s=3.0,
    )
    report = analyze(path)
    assert [len(f.fragments) for f in report.faces] == [2, 2]
    first, second = report.faces
    centre = 320  # the two faces sit in the left and right halves of the 640 px frame
    assert first.fragments[0].box[0] < centre < first.fragments[1].box[0]
    assert second.fragments[1].box[0] < centre < second.fragments[0].box[0]


def test_vfr_frame_times_follow_the_timestamps(tmp_path):
    # 3 s at 25 fps, then 3 s at 12.5 fps: by index / nominal fps (25) the second blink,
    # really at 5.0 s, would appear at about 4.0 s.
    times = [i / 25 for i in range(75)] + [3 + i / 12.5 for i in range(38)]
    path = mediagen.write_vfr_video(tmp_path / "vfr.mkv", times, blinks_at_s=(1.5, 5.0))
    scanned = [f.t_s for f in iter_video_frames(path)]
    assert scanned[: len(times)] == pytest.approx(times, abs=1e-3)
    report = analyze(path)
    assert report.blink.timestamps_s == pytest.approx([1.5, 5.0], abs=0.15)
    assert report.faces[0].fragments[0].end_s == pytest.approx(6.0, abs=0.05)
    assert report.duration_s == pytest.approx(6.04, abs=0.05)


# --- which faces may decide --------------------------------------------------------------------


def _blur_detector(tmp_path) -> dict:
    """A real Keras classifier with fixed behaviour: the less fine detail a 32 px crop holds
    (mean absolute Laplacian), the more 'fake' it says. Sharp generated faces measure about
    0.21, the blurred background face about 0.12; the boundary sits at 0.165."""
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(2, 3, use_bias=False, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    laplacian = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32) / 3.0
    kernel = np.zeros((3, 3, 3, 2), np.float32)
    kernel[:, :, :, 0] = laplacian[..., None]  # relu(+lap) + relu(-lap) = |lap|
    kernel[:, :, :, 1] = -laplacian[..., None]
    model.layers[1].set_weights([kernel])
    model.layers[-1].set_weights(
        [np.full((2, 1), -100.0, np.float32), np.array([16.5], np.float32)]
    )
    path = tmp_path / "blur.keras"
    model.save(path)
    card = {
        "name": "blur",
        "version": "1",
        "arch": "laplacian",
        "kind": "frame",
        "input_size": 32,
        "preprocessing": "unit",
        "threshold": 0.5,
        "reliability": STRONG_EVIDENCE,  # so that its low score may say "real"
    }
    (tmp_path / "blur.card.json").write_text(json.dumps(card))
    spec = ModelSpec("blur", "1", file_sha256(path), str(path), card)
    return {
        "name": spec.name,
        "version": spec.version,
        "sha256": spec.sha256,
        "path": spec.path,
        "card": card,
    }


def test_only_a_sharp_face_may_decide(tmp_path):
    path = mediagen.write_sharp_and_blurred_video(tmp_path / "scene.avi")
    spec = _blur_detector(tmp_path)
    # The classifier, shown the blurred background face, calls it fake...
    first = next(iter_video_frames(path))
    faces = FaceAnalyzer().detect(first.rgb)
    crops = np.stack([Framing().crop(first.rgb, f, 32) for f in faces])
    sharp_score, blurred_score = FrameClassifier.load(ModelSpec.from_dict(spec)).predict(crops)
    assert blurred_score > 0.9 and sharp_score < 0.1
    # ...but that face is too blurred to judge, so the sharp face decides: real.
    report = analyze(path, {"frames": 8, "models": [spec]})
    sharp, blurred = report.faces
    assert sharp.judged and sharp.score < 0.1
    assert not blurred.judged and blurred.score is None and blurred.frame_scores == []
    assert blurred.not_judged_reason.startswith("too blurred")
    assert blurred.quality["sharpness"] < policy.MIN_JUDGED_SHARPNESS
    assert report.verdict == "real"
    assert report.reasons[1].startswith(
        "Face 1 decides: the only face seen clearly enough to judge"
    )
    assert f"Face 2 not judged: {blurred.not_judged_reason}" in report.reasons
    assert report.frames_sampled == 8 and report.decisive_face == 1
