"""Result callbacks, delivered by a real RQ worker to a real HTTP server on 127.0.0.1.

127.0.0.1 is refused as a callback target (SSRF), so the delivery tests allow it by name
with WEBHOOK_ALLOWED_HOSTS, as an administrator would allow an internal receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import django_rq
import pytest
from django.core.exceptions import ValidationError
from rq import SimpleWorker
from rq.job import JobStatus

from detector import callback_guard
from detector.callback_guard import CallbackRefused, guarded_session
from detector.models import Analysis
from detector.queue.jobs import callback_deliver
from detector.services.webhooks import (
    callback_enqueue,
    validate_callback_url,
    webhook_secret_for,
)
from tests.support.receiver import WebhookReceiver
from tests.support.resolver import ASKED, REBINDING_PATH

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(settings):
    settings.WEBHOOK_RETRY_INTERVALS = [0, 0, 0]  # retry at once: the test waits for nothing
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the local Receiver, on purpose
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
    with WebhookReceiver([200]) as receiver:
        analysis = done_analysis(owner, receiver.url)
        job = deliver_all(queue, django_capture_on_commit_callbacks, analysis)

    assert job.get_status() == JobStatus.FINISHED
    [(headers, body)] = receiver.requests
    payload = json.loads(body)
    assert payload["id"] == str(analysis.pk)
    assert payload["status"] == "done" and payload["verdict"] == "fake"
    assert payload["result"] == analysis.result
    signature = headers["X-Signature"]
    expected = hmac.new(webhook_secret_for(user=owner).encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, f"sha256={expected}")
    forged = hmac.new(webhook_secret_for(user=other).encode(), body, hashlib.sha256).hexdigest()
    assert signature != f"sha256={forged}"


def test_callback_is_retried_after_a_server_error(
    queue, django_user_model, django_capture_on_commit_callbacks
):
    owner = django_user_model.objects.create_user("owner", password="pw-123456")
    with WebhookReceiver([500, 503, 200]) as receiver:
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
    with WebhookReceiver([500]) as receiver:
        job = deliver_all(
            queue,
            django_capture_on_commit_callbacks,
            done_analysis(owner, receiver.url),
        )
    assert len(receiver.requests) == 1 + 3  # the first try and three retries
    assert job.get_status() == JobStatus.FAILED


@pytest.mark.parametrize("status", [302, 307])
def test_redirects_are_not_followed(
    status, queue, django_user_model, django_capture_on_commit_callbacks
):
    owner = django_user_model.objects.create_user("owner", password="pw-123456")
    with WebhookReceiver([200]) as target, WebhookReceiver([status], target.url) as redirector:
        job = deliver_all(
            queue,
            django_capture_on_commit_callbacks,
            done_analysis(owner, redirector.url),
        )
    assert job.get_status() == JobStatus.FAILED
    assert len(redirector.requests) == 4  # the first try and three retries
    assert target.requests == []


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
    with WebhookReceiver([200]) as receiver:
        analysis = done_analysis(owner, receiver.url)
        analysis_id = str(analysis.pk)
        analysis.delete()
        assert callback_deliver(analysis_id) == 0
    assert receiver.requests == []


# --- SSRF: callbacks go only to public addresses ------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:6379/", "loopback address (127.0.0.1)"),
        ("http://localhost:22/", "loopback address (127.0.0.1)"),  # /etc/hosts name
        ("http://2130706433/", "loopback"),  # 127.0.0.1 as one number
        ("http://0x7f.0.0.1/", "loopback"),
        ("http://[::1]/", "loopback address (::1)"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped IPv6
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 of 127.0.0.1
        ("http://169.254.169.254/latest/meta-data/", "link-local address"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://10.0.0.1/", "private-network address (10.0.0.1)"),
        ("http://172.16.0.1/", "private-network"),
        ("http://192.168.1.1/", "private-network address (192.168.1.1)"),
        ("http://[fc00::1]/", "private-network"),
        ("http://100.64.0.1/", "non-public address"),  # carrier-grade NAT
        ("http://0.0.0.0/", "unspecified address (0.0.0.0)"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
    ],
)
def test_internal_addresses_are_refused_with_the_reason(url, says):
    with pytest.raises(ValidationError) as refused:
        validate_callback_url(url)
    assert says in refused.value.messages[0]
    assert "public internet addresses" in refused.value.messages[0]


def test_callback_names_are_looked_up_by_the_injected_resolver_never_outside_dns():
    """Fuzzed callback hosts once went to the machine's resolver. The tests' resolver (set for
    every test) answers from its table; a resolver can be passed for one check too."""
    ASKED.clear()
    validate_callback_url("https://hooks.example.org/hook")  # public in the table only
    with pytest.raises(ValidationError, match="could not be found"):
        validate_callback_url("https://xn--fuzzed-host-9a.example/hook")
    assert ASKED == ["hooks.example.org", "xn--fuzzed-host-9a.example"]
    with pytest.raises(ValidationError, match="private-network address"):
        callback_guard.callback_host_check(
            "hooks.example.org", 443, resolve=lambda host, port: ["10.0.0.5"]
        )


def test_a_host_that_does_not_resolve_is_refused():
    # Cloud metadata names resolve to 169.254.169.254 inside a cloud, to nothing here.
    with pytest.raises(ValidationError) as refused:
        validate_callback_url("http://metadata.google.internal/computeMetadata/v1/")
    assert refused.value.messages == [
        "The callback host “metadata.google.internal” could not be found."
    ]


@pytest.mark.parametrize(
    "url", ["http://user:pass@127.0.0.1/", "https://user@93.184.215.14/", "http://@x/"]
)
def test_credentials_in_the_url_are_refused(url):
    with pytest.raises(ValidationError) as refused:
        validate_callback_url(url)
    assert refused.value.messages == ["The callback URL must not contain a user name or password."]


@pytest.mark.parametrize(
    "url",
    ["https://93.184.215.14/hook", "http://[2606:4700:4700::1111]:8443/x"],
)
def test_public_addresses_are_accepted(url):
    validate_callback_url(url)


def test_allowed_hosts_are_accepted_and_only_those(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost", "[::1]"]
    validate_callback_url("http://localhost:8080/hook")
    validate_callback_url("http://LOCALHOST./hook")
    validate_callback_url("http://[::1]:8080/hook")
    with pytest.raises(ValidationError):
        validate_callback_url("http://127.0.0.1:8080/hook")  # same address, not named


def test_the_api_refuses_an_internal_callback_with_its_reason(user, jpeg_bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    response = api.post(
        "/api/v1/analyses/",
        {
            "file": SimpleUploadedFile("face.jpg", jpeg_bytes, "image/jpeg"),
            "callback_url": "http://169.254.169.254/latest/meta-data/",
        },
        format="multipart",
    )
    assert response.status_code == 400
    [message] = response.json()["fields"]["callback_url"]
    assert "link-local address (169.254.169.254)" in message
    assert not Analysis.objects.exists()


def test_a_stored_internal_url_is_never_called(django_user_model):
    owner = django_user_model.objects.create_user("owner", password="pw-123456")
    with WebhookReceiver([200]) as receiver:
        analysis = done_analysis(owner, receiver.url)  # stored before the checks existed
        with pytest.raises(ValidationError):
            callback_deliver(str(analysis.pk))
    assert receiver.requests == []


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_connection_itself_is_refused_when_it_reaches_an_internal_address(scheme):
    # No validation in front: the transport alone refuses, before TLS or the request is sent.
    with WebhookReceiver([200]) as receiver:
        url = f"{scheme}://127.0.0.1:{receiver.server.server_port}/hook"
        with guarded_session() as session, pytest.raises(CallbackRefused) as refused:
            session.post(url, data=b"{}", timeout=5)
    assert "loopback address (127.0.0.1)" in str(refused.value)
    assert receiver.requests == []


def test_dns_rebinding_is_refused_at_send_time(
    queue, settings, django_user_model, django_capture_on_commit_callbacks
):
    """The name looked public when checked, then resolves to 127.0.0.1 when connecting.

    A rebinding DNS server cannot run here, so its first answer is played by the validation's
    injected resolver; the connection then resolves `localhost` for real (/etc/hosts).
    """
    owner = django_user_model.objects.create_user("owner", password="pw-123456")
    settings.CALLBACK_RESOLVER = REBINDING_PATH
    with WebhookReceiver([200]) as receiver:
        url = f"http://localhost:{receiver.server.server_port}/hook"
        analysis = done_analysis(owner, url)
        job = deliver_all(queue, django_capture_on_commit_callbacks, analysis)
        assert job.get_status() == JobStatus.FAILED
        assert "CallbackRefused" in job.latest_result().exc_string
        assert receiver.requests == []
        # Allowed by name, the same receiver does get it: the refusal above was the guard.
        settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
        assert callback_deliver(str(analysis.pk)) == 200
        assert len(receiver.requests) == 1
