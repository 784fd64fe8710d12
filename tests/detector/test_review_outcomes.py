"""What a review sets off: the `analysis.reviewed` callback, delivered by a real RQ worker to a
real HTTP receiver on 127.0.0.1, and the owner's email when the review contradicts the verdict
(Django's mail outbox)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.contrib.auth.models import Permission
from django.core import mail

from detector import services
from detector.ground_truth import review_contradicts, review_truth
from detector.models import Analysis
from detector.services.webhooks import webhook_secret_for
from tests.support.receiver import WebhookReceiver
from tests.support.reports import report_dict

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def loopback_receiver_allowed(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the local receiver, on purpose
    settings.SITE_URL = "https://detector.example.org"


@pytest.fixture
def reviewer(staff_user):
    staff_user.user_permissions.add(Permission.objects.get(codename="review_analysis"))
    return staff_user


def finished(make_analysis, owner, verdict: str, probability: float | None, **kwargs) -> Analysis:
    analysis = make_analysis(owner, name="interview.jpg", **kwargs)
    services.analysis_finish(analysis=analysis, report=report_dict(verdict, probability))
    analysis.refresh_from_db()
    return analysis


def review(capture, analysis: Analysis, reviewer, label: str):
    """Record a decision and run what waits for its commit (the email, queueing the callback)."""
    with capture(execute=True):
        return services.review_record(analysis=analysis, reviewer=reviewer, label=label)


def test_a_contradicting_review_sends_one_email_and_one_reviewed_callback(
    make_analysis, user, reviewer, rq_worker, django_capture_on_commit_callbacks
):
    with WebhookReceiver() as receiver:
        analysis = finished(make_analysis, user, "real", 0.12, callback_url=receiver.url)
        recorded = review(django_capture_on_commit_callbacks, analysis, reviewer, "confirmed_fake")
        rq_worker()

    [email] = mail.outbox
    assert email.to == ["alice@example.org"]
    assert "interview.jpg" in email.subject
    assert "Automatic verdict: Real (fake probability 0.12)" in email.body
    assert "Reviewer's decision: Confirmed fake" in email.body
    assert f"https://detector.example.org/analyses/{analysis.pk}/" in email.body

    [(headers, body)] = receiver.requests
    [payload] = receiver.payloads()
    assert payload["event"] == "analysis.reviewed"
    assert payload["id"] == str(analysis.pk)
    assert (payload["verdict"], payload["review_label"]) == ("real", "confirmed_fake")
    assert payload["review"] == {
        "id": recorded.pk,
        "label": "confirmed_fake",
        "label_before": "",
        "truth": "fake",
        "contradicts_verdict": True,
        "created": recorded.created.isoformat(),
    }
    assert "result" not in payload  # the receiver has the Report from analysis.finished
    secret = webhook_secret_for(user=user).encode()
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Signature"], expected)


def test_an_agreeing_review_sends_no_email_but_still_the_callback(
    make_analysis, user, reviewer, rq_worker, django_capture_on_commit_callbacks
):
    with WebhookReceiver() as receiver:
        analysis = finished(make_analysis, user, "fake", 0.93, callback_url=receiver.url)
        review(django_capture_on_commit_callbacks, analysis, reviewer, "confirmed_fake")
        rq_worker()

    assert mail.outbox == []
    [payload] = receiver.payloads()
    assert payload["event"] == "analysis.reviewed"
    assert payload["review"]["truth"] == "fake"
    assert payload["review"]["contradicts_verdict"] is False


@pytest.mark.parametrize(
    ("verdict", "probability", "label"),
    [
        ("inconclusive", 0.55, "confirmed_fake"),  # the machine claimed nothing
        ("inconclusive", 0.55, "confirmed_real"),
        ("fake", 0.93, "needs_more_review"),  # no truth yet
        ("real", 0.08, "confirmed_real"),
    ],
)
def test_no_email_without_a_contradiction(
    verdict, probability, label, make_analysis, user, reviewer, django_capture_on_commit_callbacks
):
    analysis = finished(make_analysis, user, verdict, probability)
    review(django_capture_on_commit_callbacks, analysis, reviewer, label)
    assert mail.outbox == []


def test_each_contradicting_review_sends_one_email_and_a_repeat_none(
    make_analysis, user, reviewer, django_capture_on_commit_callbacks
):
    analysis = finished(make_analysis, user, "fake", 0.91)
    review(django_capture_on_commit_callbacks, analysis, reviewer, "confirmed_real")
    assert len(mail.outbox) == 1
    # The same decision again (a bulk action over it, say) tells the owner nothing new.
    review(django_capture_on_commit_callbacks, analysis, reviewer, "confirmed_real")
    assert len(mail.outbox) == 1
    # Sent back for more review, then confirmed real once more: a new contradiction.
    review(django_capture_on_commit_callbacks, analysis, reviewer, "needs_more_review")
    review(django_capture_on_commit_callbacks, analysis, reviewer, "confirmed_real")
    assert len(mail.outbox) == 2


def test_no_email_and_no_callback_before_the_decision_commits(
    make_analysis, user, reviewer, rq_worker, django_capture_on_commit_callbacks
):
    with WebhookReceiver() as receiver:
        analysis = finished(make_analysis, user, "real", 0.12, callback_url=receiver.url)
        with django_capture_on_commit_callbacks(execute=False) as waiting:
            services.review_record(analysis=analysis, reviewer=reviewer, label="confirmed_fake")
        rq_worker()
    assert len(waiting) == 2  # queue the callback, send the email: both after the commit
    assert mail.outbox == [] and receiver.requests == []


def test_a_decision_in_the_admin_emails_the_owner(
    client, make_analysis, user, reviewer, django_capture_on_commit_callbacks
):
    analysis = finished(make_analysis, user, "fake", 0.88)
    client.force_login(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/detector/analysis/{analysis.pk}/change/",
            {
                "decision": "confirmed_real",
                "review_notes": "The original broadcast.",
                "reviews-TOTAL_FORMS": "0",
                "reviews-INITIAL_FORMS": "0",
            },
        )
    assert response.status_code == 302
    [email] = mail.outbox
    assert email.to == [user.email]
    assert "Reviewer's decision: Confirmed real" in email.body
    assert "The original broadcast." not in email.body  # reviewers' notes stay internal


def test_an_owner_without_an_email_address_gets_none(
    make_analysis, django_user_model, reviewer, django_capture_on_commit_callbacks
):
    owner = django_user_model.objects.create_user("noaddress", password="pw-123456")
    analysis = finished(make_analysis, owner, "real", 0.1)
    review(django_capture_on_commit_callbacks, analysis, reviewer, "confirmed_fake")
    assert mail.outbox == []


def test_ground_truth_of_each_label_and_what_contradicts():
    assert [review_truth(label) for label in Analysis.ReviewLabel.values] == [
        "fake",
        "real",
        None,
    ]
    assert review_contradicts(verdict="real", label="confirmed_fake")
    assert review_contradicts(verdict="fake", label="confirmed_real")
    assert not review_contradicts(verdict="fake", label="confirmed_fake")
    assert not review_contradicts(verdict="inconclusive", label="confirmed_real")
    assert not review_contradicts(verdict="", label="confirmed_real")  # failed: no verdict
    assert not review_contradicts(verdict="real", label="needs_more_review")
