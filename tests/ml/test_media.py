"""ml.media.reader against generated images and videos: types from content, decoding, limits, frames."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml.errors import MediaError
from ml.media import reader as media
from tests.support import astronaut, mediagen


def close_to(a: np.ndarray, b: np.ndarray, tolerance: float) -> bool:
    return (
        a.shape == b.shape and float(np.abs(a.astype(float) - b.astype(float)).mean()) < tolerance
    )


# --- sniff / probe -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "name", "mime"),
    [
        ("JPEG", "a.jpg", "image/jpeg"),
        ("PNG", "a.png", "image/png"),
        ("WEBP", "a.webp", "image/webp"),
    ],
)
def test_sniff_images(tmp_path, fmt, name, mime):
    path = mediagen.write_image(tmp_path / name, fmt=fmt, size=(300, 200))
    info = media.sniff(path)
    assert (info.media_type, info.mime, info.width, info.height) == (
        "image",
        mime,
        300,
        200,
    )
    assert info.fps is None and info.frame_count is None


@pytest.mark.parametrize(
    ("fixture", "mime"),
    [("noface_video", "video/x-msvideo"), ("face_mp4", "video/mp4")],
)
def test_sniff_and_probe_videos(request, fixture, mime):
    path = request.getfixturevalue(fixture)
    info = media.probe(path)
    assert (info.media_type, info.mime, info.fps) == ("video", mime, 25.0)
    # Both generated videos are 2 s at 25 fps: exactly 50 frames were written.
    assert info.frame_count == 50
    assert info.duration_s == pytest.approx(2.0)
    assert (info.width, info.height) in ((320, 240), (320, 320))


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("a.mov", "video/quicktime"),
        ("a.mkv", "video/x-matroska"),
        ("a.webm", "video/webm"),
    ],
)
def test_other_containers(tmp_path, name, mime):
    path = mediagen.write_noface_video(tmp_path / name, seconds=1.0, size=(160, 120))
    info = media.probe(path)
    assert (info.media_type, info.mime, info.frame_count) == ("video", mime, 25)
    assert (info.width, info.height) == (160, 120)


def test_probe_counts_frames_that_decode_not_what_the_container_claims(tmp_path):
    path = mediagen.write_face_video(tmp_path / "cut.avi", seconds=2.0, fps=25)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # an interrupted upload: header says 50 frames
    claimed = media.sniff(path).frame_count
    decoded = media.probe(path).frame_count
    assert claimed == 50
    assert 0 < decoded < 50
    assert decoded == len(list(media.iter_video_frames(path, target_fps=25)))


def test_type_comes_from_content_not_extension(tmp_path, face_jpeg, noface_video):
    jpeg_named_as_video = tmp_path / "clip.mp4"
    jpeg_named_as_video.write_bytes(face_jpeg.read_bytes())
    video_named_as_image = tmp_path / "photo.png"
    video_named_as_image.write_bytes(noface_video.read_bytes())
    assert media.sniff(jpeg_named_as_video).mime == "image/jpeg"
    assert media.sniff(video_named_as_image).media_type == "video"
    assert media.load_image(jpeg_named_as_video).shape == (512, 512, 3)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(MediaError, match="^The file is empty.$"):
        media.sniff(path)


@pytest.mark.parametrize(
    "content",
    [b"hello, this is text", b"GIF89a" + bytes(100), b"%PDF-1.7\n" + bytes(50)],
)
def test_unsupported_types(tmp_path, content):
    path = tmp_path / "upload.jpg"
    path.write_bytes(content)
    with pytest.raises(MediaError, match="not supported"):
        media.sniff(path)


def test_corrupt_image(tmp_path, face_jpeg):
    path = tmp_path / "broken.jpg"
    path.write_bytes(face_jpeg.read_bytes()[:700])  # headers intact, image data cut short
    with pytest.raises(MediaError, match="damaged"):
        media.sniff(path)
    with pytest.raises(MediaError, match="damaged"):
        media.load_image(path)
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(MediaError, match="damaged"):
        media.sniff(garbage)


def test_corrupt_video(corrupt_video):
    with pytest.raises(MediaError, match="cannot be decoded"):
        media.sniff(corrupt_video)
    with pytest.raises(MediaError, match="cannot be decoded"):
        media.probe(corrupt_video)


JUNK_SIZE = 200 * 1024 * 1024


def sparse_file(path, head: bytes, size: int = JUNK_SIZE):
    """A file of `size` bytes that starts with `head`; the rest is a hole (zeros) on disk."""
    with open(path, "wb") as out:
        out.write(head)
        out.truncate(size)
    return path


@pytest.mark.parametrize(
    ("name", "head", "message"),
    [
        ("junk.jpg", b"\xff\xd8\xff", media.DAMAGED_IMAGE_MESSAGE),
        ("junk.png", b"\x89PNG\r\n\x1a\n", media.DAMAGED_IMAGE_MESSAGE),
        ("junk.avi", b"RIFF\xf0\xff\xff\x0bAVI LIST", media.DAMAGED_VIDEO_MESSAGE),
    ],
)
def test_200_mb_of_junk_behind_a_header_is_rejected_as_damaged(tmp_path, name, head, message):
    # Skipping the junk after a JPEG marker used to take half a minute of CPU; the budgets
    # stop it (benchmarks/sniff.py measures how fast).
    path = sparse_file(tmp_path / name, head)
    assert path.stat().st_size == JUNK_SIZE
    with pytest.raises(MediaError) as refused:
        media.sniff(path)
    assert str(refused.value) == message


def test_an_image_whose_trial_decode_outruns_the_budget_is_accepted(tmp_path, monkeypatch):
    # The header is sound and no damage was met before the budget ran out: the analysis
    # itself decodes the rest.
    path = mediagen.write_image(tmp_path / "big.png", fmt="PNG", size=(1200, 800))
    monkeypatch.setattr(media, "SNIFF_DECODE_CPU_S", -1.0)
    info = media.sniff(path)
    assert (info.mime, info.width, info.height) == ("image/png", 1200, 800)
    assert media.load_image(path).shape == (800, 1200, 3)


def test_a_header_that_cannot_be_found_within_the_budget_is_damaged(
    tmp_path, face_jpeg, monkeypatch
):
    monkeypatch.setattr(media, "SNIFF_HEADER_CPU_S", -1.0)
    with pytest.raises(MediaError, match="damaged"):
        media.sniff(face_jpeg)


@pytest.mark.parametrize(("width", "height"), [(20000, 20000), (9000, 9000)])
def test_huge_declared_dimensions_are_refused_before_decoding(tmp_path, width, height):
    # 20000^2 trips Pillow's own bomb guard; 9000^2 (81 MP) only ours.
    path = mediagen.write_huge_png(tmp_path / "bomb.png", width=width, height=height)
    assert path.stat().st_size < 1000
    for read in (media.sniff, media.load_image):
        with pytest.raises(MediaError, match="too large"):
            read(path)


# --- load_image --------------------------------------------------------------------------


def test_load_image_is_rgb_uint8(face_png):
    rgb = media.load_image(face_png)
    expected = np.asarray(
        Image.fromarray(astronaut.astronaut_rgb()).resize((256, 256), Image.Resampling.LANCZOS)
    )
    assert rgb.dtype == np.uint8
    assert np.array_equal(rgb, expected)  # PNG is lossless: same pixels, same channel order


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(tmp_path, orientation):
    upright = np.asarray(Image.fromarray(astronaut.astronaut_rgb()).resize((300, 200)))
    path = mediagen.write_image(
        tmp_path / "phone.jpg", size=(300, 200), exif_orientation=orientation
    )
    stored = np.asarray(Image.open(path))
    assert not close_to(stored, upright, 20)  # the pixels on disk are turned
    info = media.sniff(path)
    assert (info.width, info.height) == (300, 200)
    assert close_to(media.load_image(path), upright, 6)


def test_palette_with_transparency_is_composited_on_white(tmp_path):
    path = mediagen.write_image(tmp_path / "palette.png", fmt="PNG", mode="P")
    rgb = media.load_image(path)
    assert rgb.shape == (512, 512, 3) and rgb.dtype == np.uint8
    assert np.all(rgb[:32, :32] == 255)  # the transparent block shows as white
    assert close_to(rgb[64:, 64:], astronaut.astronaut_rgb()[64:, 64:], 6)


def test_alpha_channel(tmp_path):
    path = mediagen.write_image(tmp_path / "grey-alpha.png", fmt="PNG", mode="LA")
    rgb = media.load_image(path)
    grey = np.asarray(Image.fromarray(astronaut.astronaut_rgb()).convert("L"))
    assert rgb.shape == (512, 512, 3)
    assert np.array_equal(rgb[..., 0], grey) and np.array_equal(rgb[..., 0], rgb[..., 2])


def test_16_bit_greyscale_is_scaled_not_clipped(tmp_path):
    path = mediagen.write_image(tmp_path / "deep.png", fmt="PNG", mode="I;16")
    rgb = media.load_image(path)
    grey = np.asarray(Image.fromarray(astronaut.astronaut_rgb()).convert("L")).astype(int)
    assert rgb.dtype == np.uint8
    assert np.abs(rgb[..., 1].astype(int) - grey).max() <= 1


def test_cmyk_jpeg_is_converted(tmp_path):
    path = mediagen.write_image(tmp_path / "print.jpg", mode="CMYK")
    assert Image.open(path).mode == "CMYK"
    assert close_to(media.load_image(path), astronaut.astronaut_rgb(), 8)


def test_load_image_refuses_a_video(noface_video):
    with pytest.raises(MediaError, match="video"):
        media.load_image(noface_video)


# --- frames ------------------------------------------------------------------------------


def test_iter_video_frames_keeps_every_kth_frame_in_rgb(noface_video):
    every = list(media.iter_video_frames(noface_video, target_fps=15))
    assert [f.index for f in every] == list(range(50))  # 25 fps: halving would fall below 15
    halved = list(media.iter_video_frames(noface_video, target_fps=10))
    assert [f.index for f in halved] == list(range(0, 50, 2))
    assert [f.t_s for f in halved[:3]] == pytest.approx([0.0, 0.08, 0.16])
    frame = halved[0].rgb
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    # The generator paints the blue channel 128 outside the white disc: RGB order is kept.
    assert abs(float(np.median(frame[..., 2])) - 128) < 6
    assert np.array_equal(halved[3].rgb, every[6].rgb)


def test_iter_frames_at_returns_the_same_frames(noface_video):
    every = list(media.iter_video_frames(noface_video, target_fps=25))
    picked = list(media.iter_frames_at(noface_video, [30, 5, 5, 49, 400]))
    assert [f.index for f in picked] == [5, 30, 49]
    for frame in picked:
        assert np.array_equal(frame.rgb, every[frame.index].rgb)
        assert frame.t_s == pytest.approx(frame.index / 25)


def test_sample_indices():
    assert media.sample_indices(100, 4) == [12, 37, 62, 87]
    assert media.sample_indices(3, 32) == [0, 1, 2]
    assert media.sample_indices(0, 5) == [] and media.sample_indices(10, 0) == []
    for total in (1, 7, 31, 32, 33, 1000):
        for n in (1, 2, 5, 32):
            indices = media.sample_indices(total, n)
            assert len(indices) == min(total, n)
            assert indices == sorted(set(indices))
            assert 0 <= indices[0] and indices[-1] < total


FRESH_PROCESS_SNIFF = """
import sys
from ml.media import reader
reader.SNIFF_HEADER_CPU_S = float(sys.argv[2])
print(reader.sniff(sys.argv[1]).mime)
"""


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_the_first_sniff_of_a_new_worker_process_is_not_charged_for_loading_pillow(tmp_path, fmt):
    """The re-analysis that failed as "damaged" in a Redis outage was the first job of a fresh
    job process: Pillow loaded its format plugins inside the header's CPU budget. With a header
    budget far below that loading cost (but far above parsing a header), a fresh process must
    still read an intact file."""
    import subprocess
    import sys

    path = mediagen.write_image(tmp_path / f"face.{fmt.lower()}", fmt=fmt)
    budget = "0.02"  # loading the plugins takes about 0.05-0.1 s of CPU; a header, microseconds
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS_SNIFF, str(path), budget],
        check=False,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"image/{fmt.lower()}"
