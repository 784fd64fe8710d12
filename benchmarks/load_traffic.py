"""The load test's clients: generated media, one thread per user uploading through the token
API and polling every analysis to a final state, and the machine's load meanwhile."""

from __future__ import annotations

import collections
import functools
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests import mediagen

FINAL = {"done", "failed"}


# --- media --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Media:
    name: str
    path: Path
    expect: int  # the upload's expected HTTP status


def make_media(folder: Path) -> list[Media]:
    """Small files: each analysis runs the dlib face pipeline on a busy 2-core machine."""
    folder.mkdir()
    jpeg_small = mediagen.write_image(folder / "face-256.jpg", fmt="JPEG", size=(256, 256))
    jpeg = mediagen.write_image(folder / "face-320.jpg", fmt="JPEG", size=(320, 320))
    video = mediagen.write_face_video(folder / "face.avi", seconds=1.0, fps=10)
    noface = mediagen.write_noface_video(folder / "noface.avi", seconds=1.0, fps=10)
    corrupt = mediagen.write_corrupt_video(folder / "corrupt.avi")
    empty = folder / "empty.jpg"
    empty.write_bytes(b"")
    junk = folder / "junk.jpg"
    junk.write_bytes(os.urandom(4096))
    return [
        Media("jpeg 256 px", jpeg_small, 202),
        Media("avi 1 s", video, 202),
        Media("jpeg 320 px", jpeg, 202),
        Media("empty file", empty, 400),
        Media("jpeg 256 px", jpeg_small, 202),
        Media("junk bytes", junk, 400),
        Media("avi without a face", noface, 202),
        Media("corrupt avi", corrupt, 400),
    ]


# --- clients ------------------------------------------------------------------------------


class Deadline:
    """The end of the client phase: after `seconds`, or at once when cancelled."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = float("inf")
        self.cancelled = threading.Event()

    def start(self) -> None:
        self.end = time.monotonic() + self.seconds

    def cancel(self) -> None:
        self.cancelled.set()

    def passed(self) -> bool:
        return self.cancelled.is_set() or time.monotonic() > self.end

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when the deadline has passed."""
        self.cancelled.wait(seconds)
        return self.passed()


@dataclass
class Record:
    """What one client saw; lists are appended from one thread each, merged at the end."""

    upload_ms: list[float] = field(default_factory=list)
    poll_ms: list[float] = field(default_factory=list)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    accepted: dict[str, str] = field(default_factory=dict)  # analysis id -> media name
    unexpected: list[str] = field(default_factory=list)
    final: dict[str, dict] = field(default_factory=dict)  # id -> last document
    to_final_s: list[float] = field(default_factory=list)
    not_final: list[str] = field(default_factory=list)


def run_client(
    *, base: str, token: str, plan: list[Media], deadline: Deadline, poll_s: float
) -> Record:
    """Upload the plan's files one after another, polling each to a final state."""
    record = Record()
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    for media in plan:
        if deadline.passed():
            break
        with open(media.path, "rb") as handle:
            response = _timed(
                record,
                record.upload_ms,
                "POST",
                functools.partial(
                    session.post,
                    f"{base}/api/v1/analyses/",
                    files={"file": (media.path.name, handle)},
                    timeout=60,
                ),
            )
        if response is None or response.status_code != media.expect:
            status = "no answer" if response is None else response.status_code
            text = "" if response is None else response.text[:200]
            record.unexpected.append(f"upload of {media.name}: {status} {text}")
        if response is None or response.status_code != 202:
            continue
        analysis_id = response.json()["id"]
        if analysis_id in record.accepted:
            record.unexpected.append(f"the same id answered twice: {analysis_id}")
        record.accepted[analysis_id] = media.name
        _poll(session, f"{base}/api/v1/analyses/{analysis_id}/", record, deadline, poll_s)
    return record


def _timed(
    record: Record,
    times: list[float],
    method: str,
    send: Callable[[], requests.Response],
) -> requests.Response | None:
    """Send one request, recording its latency and its status (or why there was none)."""
    start = time.perf_counter()
    try:
        response = send()
    except requests.RequestException as error:
        record.statuses[f"{method} {type(error).__name__}"] += 1
        return None
    times.append((time.perf_counter() - start) * 1000)
    record.statuses[f"{method} {response.status_code}"] += 1
    return response


def _poll(
    session: requests.Session,
    url: str,
    record: Record,
    deadline: Deadline,
    poll_s: float,
) -> None:
    accepted_at = time.monotonic()
    analysis_id = url.rstrip("/").rsplit("/", 1)[1]
    while not deadline.wait(poll_s):
        response = _timed(record, record.poll_ms, "GET", lambda: session.get(url, timeout=60))
        if response is None or response.status_code != 200:
            status = "no answer" if response is None else response.status_code
            record.unexpected.append(f"poll of {analysis_id}: {status}")
            continue
        document = response.json()
        if document["status"] in FINAL:
            record.final[analysis_id] = document
            record.to_final_s.append(time.monotonic() - accepted_at)
            return
    record.not_final.append(analysis_id)


# --- the run ------------------------------------------------------------------------------


def create_users(count: int, base: str) -> dict[str, str]:
    """Users made in the database; their tokens fetched through the API, as a client would."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    tokens = {}
    for index in range(count):
        username, password = f"load{index:03d}", secrets.token_urlsafe(12)
        get_user_model().objects.create_user(username=username, password=password)
        response = requests.post(
            f"{base}/api/v1/auth/token/",
            data={"username": username, "password": password},
            timeout=60,
        )
        response.raise_for_status()
        tokens[username] = response.json()["token"]
    return tokens


class LoadSampler(threading.Thread):
    """The 1-minute load average every few seconds, to report what the machine was doing."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(5):
            self.samples.append(os.getloadavg()[0])
