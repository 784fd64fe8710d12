"""Generated test clips: the astronaut photo (tests/mediagen.py), two people side by side,
swaying and blinking every 3 s, as a phone or webcam would film them."""

from __future__ import annotations

from pathlib import Path

from tests.support import mediagen

FPS = 30
BLINK_EVERY_S = 3.0


def two_person_clip(folder: Path, *, seconds: float, size: tuple[int, int], name: str) -> Path:
    """An MJPEG AVI of `seconds` at `size` (width, height); reused when already written."""
    path = folder / f"{name}-{size[0]}x{size[1]}-{seconds:g}s.avi"
    if not path.is_file():
        blinks = [1.0 + BLINK_EVERY_S * i for i in range(int(seconds // BLINK_EVERY_S))]
        partial = path.with_suffix(".partial.avi")
        mediagen.write_face_video(
            partial,
            seconds=seconds,
            fps=FPS,
            size=size,
            two_faces=True,
            blinks_at_s=[t for t in blinks if t < seconds - 0.5],
        )
        partial.rename(path)  # an interrupted run leaves no half-written clip to reuse
    return path
