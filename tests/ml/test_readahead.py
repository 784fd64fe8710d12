"""ml.media.readahead: frames decoded in a thread come out as the decoder gives them."""

import threading
import time

import numpy as np
import pytest

from ml.errors import MediaError
from ml.media import reader as media
from ml.media.readahead import THREAD_NAME, read_ahead


def readers_alive() -> int:
    return sum(1 for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive())


def test_yields_the_same_frames_in_order_read_by_another_thread(face_mp4):
    direct = list(media.iter_video_frames(face_mp4, target_fps=25))
    readers = set()

    def decoded():
        for frame in media.iter_video_frames(face_mp4, target_fps=25):
            readers.add(threading.current_thread().name)
            yield frame

    ahead = list(read_ahead(decoded(), depth=3))
    assert [f.index for f in ahead] == [f.index for f in direct] == list(range(50))
    assert [f.t_s for f in ahead] == [f.t_s for f in direct]
    assert all(np.array_equal(a.rgb, d.rgb) for a, d in zip(ahead, direct, strict=True))
    assert readers == {THREAD_NAME}
    assert readers_alive() == 0


def test_a_file_that_is_no_video_raises_in_the_consumer(tmp_path):
    path = tmp_path / "junk.mp4"
    path.write_bytes(np.random.default_rng(3).integers(0, 256, 4096, np.uint8).tobytes())
    with pytest.raises(MediaError, match="cannot be decoded"):
        list(read_ahead(media.iter_video_frames(path)))
    assert readers_alive() == 0


def test_an_error_after_some_items_comes_after_them():
    def source():
        yield from range(3)
        raise ValueError("broken at 3")

    received = []
    with pytest.raises(ValueError, match="broken at 3"):
        received.extend(read_ahead(source(), depth=2))  # keeps what came before the error
    assert received == [0, 1, 2]


def test_closing_stops_the_thread_and_closes_the_source_and_reading_stays_bounded():
    produced, closed = [], threading.Event()

    def endless():
        try:
            for i in range(10**9):
                produced.append(i)
                yield i
        finally:
            closed.set()

    ahead = read_ahead(endless(), depth=4)
    assert [next(ahead), next(ahead)] == [0, 1]
    time.sleep(0.2)  # give the reader time to run as far ahead as it may
    assert len(produced) <= 2 + 4 + 1
    ahead.close()
    assert closed.is_set()
    assert readers_alive() == 0


def test_a_byte_limit_holds_back_large_items():
    produced = []

    def big():
        for i in range(100):
            produced.append(i)
            yield np.zeros(1000, np.uint8)

    ahead = read_ahead(big(), depth=50, max_bytes=2500, size=lambda a: a.nbytes)
    next(ahead)
    time.sleep(0.2)
    assert len(produced) <= 1 + 3 + 1
    ahead.close()
