"""Result callbacks, delivered by a real RQ worker to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import django_rq
import pytest
from django.core.exceptions import ValidationError
from rq import SimpleWorker
from rq.job import JobStatus

from detector.models import Analysis
from detector.webhooks import (
    callback_deliver,
    callback_enqueue,
    validate_callback_url,
    webhook_secret_for,
)

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP endpoint that answers with the given status codes, in turn."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = (
                    receiver.statuses.pop(0)
                    if len(receiver.statuses) > 1
                    else receiver.statuses[0]
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def queue(settings):
    settings.WEBHOOK_RETRY_INTERVALS = [
        0,
        0,
        0,
    ]  # retry at once: the test waits for nothing
    queue = django_rq.get_queue("default")
    queue.connection.flushdb()  # this suite's own Redis database (REDIS_URL)
    yield queue
    queue.connection.flushdb()


def done_analysis(owner, callback_url: str) -> Analysis:
    return Analysis.objects.create(
        owner=owner,
        original_filename="clip.mp4",
        media_file="uploads/x/clip.mp4",
        media_type="video",
        sha256="c" * 64,
        size_bytes=10,
        status="done",
        progress=100,
        verdict="fake",
        fake_probability=0.91,
        callback_url=callback_url,
        result={
            "verdict": "fake",
            "fake_probability": 0.91,
            "reasons": ["Faces score high."],
        },
    )


def deliver_all(queue, django_capture_on_commit_callbacks, analysis: Analysis):
    with django_capture_on_commit_callbacks(execute=True):
        callback_enqueue(analysis_id=analysis.pk)
    [job] = queue.get_jobs()
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    job.refresh()
    return job


def test_callback_is_signed_with_the_owners_secret(
    queue, django_user_model, django_capture_on_commit_callbacks
):
    owner = django_user_model.objects.create_user("owner", password="pw-123456")
    other = django_user_model.objects.create_user("other", password="pw-123456")
    with Receiver([200]) as receiver:
        analysis = done_analysis(owner, receiver.url)
        job = deliver_all(queue, django_capture_on_commit_callbacks, analysis)

    assert job.get_status() == JobStatus.FINISHED
    [(headers, body)] = receiver.requests
    payload = json.loads(body)
    assert payload["id"] == str(analysis.pk)
    assert payload["status"] == "done" and payload["verdict"] == "fake"
    assert payload["result"] == analysis.result
    signature = headers["X-Signature"]
    expected = hmac.new(
        webhook_secret_for(user=owner).encode(), body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(signature, f"sha256={expected}")
    forged = hmac.new(
        webhook_secret_for(user=other).encode(), body, hashlib.sha256
    ).hexdigest()
    assert signature != f"sha256={forged}"


def test_callback_is_retried_after_a_server_error(
    queue, django_user_model, django_capture_on_commit_callbacks
):
    owner = django_user_model.objects.create_user("owner", password="pw-123456")
    with Receiver([500, 503, 200]) as receiver:
        job = deliver_all(
            queue,
            django_capture_on_commit_callbacks,
            done_analysis(owner, receiver.url),
        )
    assert len(receiver.requests) == 3
    assert job.get_status() == JobStatus.FINISHED
    bodies = {body for _, body in receiver.requests}
    assert len({json.loads(b)["id"] for b in bodies}) == 1


def test_callback_gives_up_after_its_retries(
    queue, django_user_model, django_capture_on_commit_callbacks
):
    owner = django_user_model.objects.create_user("owner", password="pw-123456")
    with Receiver([500]) as receiver:
        job = deliver_all(
            queue,
            django_capture_on_commit_callbacks,
            done_analysis(owner, receiver.url),
        )
    assert len(receiver.requests) == 1 + 3  # the first try and three retries
    assert job.get_status() == JobStatus.FAILED


def test_redirects_are_not_followed(
    queue, django_user_model, django_capture_on_commit_callbacks
):
    owner = django_user_model.objects.create_user("owner", password="pw-123456")
    with Receiver([302]) as receiver:
        job = deliver_all(
            queue,
            django_capture_on_commit_callbacks,
            done_analysis(owner, receiver.url),
        )
    assert job.get_status() == JobStatus.FAILED
    assert len(receiver.requests) == 4


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "//127.0.0.1/x",
        "",
    ],
)
def test_only_absolute_http_urls_are_accepted(url):
    with pytest.raises(ValidationError):
        validate_callback_url(url)


def test_a_stored_non_http_url_is_never_called(django_user_model):
    owner = django_user_model.objects.create_user("owner", password="pw-123456")
    analysis = done_analysis(owner, "gopher://127.0.0.1:70/x")
    with pytest.raises(ValidationError):
        callback_deliver(str(analysis.pk))


def test_nothing_is_sent_for_a_deleted_analysis(django_user_model):
    owner = django_user_model.objects.create_user("owner", password="pw-123456")
    with Receiver([200]) as receiver:
        analysis = done_analysis(owner, receiver.url)
        analysis_id = str(analysis.pk)
        analysis.delete()
        assert callback_deliver(analysis_id) == 0
    assert receiver.requests == []
