"""Reviews: the review services, and the admin's review queue built on them."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission

from detector import services
from detector.models import Analysis, Review
from detector.services import NoResultToReport, analysis_report_wrong, review_record
from tests.detector.conftest import report_dict

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/detector/analysis/"


def finished(analysis: Analysis, verdict: str, probability: float | None = None) -> Analysis:
    services.analysis_finish(analysis=analysis, report=report_dict(verdict, probability))
    analysis.refresh_from_db()
    return analysis


@pytest.fixture
def reviewer(staff_user):
    staff_user.user_permissions.add(Permission.objects.get(codename="review_analysis"))
    return staff_user


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def flagged(make_analysis, user) -> Analysis:
    return finished(make_analysis(user, name="suspect.jpg"), "fake", 0.93)


# --- services ----------------------------------------------------------------------------


def test_review_record_keeps_history_and_sets_the_label(flagged, reviewer):
    first = review_record(
        analysis=flagged,
        reviewer=reviewer,
        label="needs_more_review",
        notes=" check the ears ",
    )
    second = review_record(analysis=flagged, reviewer=reviewer, label="confirmed_fake", notes="")
    assert (first.label_before, first.label_after, first.notes) == (
        "",
        "needs_more_review",
        "check the ears",
    )
    assert (second.label_before, second.label_after) == (
        "needs_more_review",
        "confirmed_fake",
    )
    flagged.refresh_from_db()
    assert flagged.review_label == "confirmed_fake"
    assert list(flagged.reviews.values_list("label_after", flat=True)) == [
        "confirmed_fake",
        "needs_more_review",
    ]


def test_review_record_refuses_an_unknown_label(flagged, reviewer):
    with pytest.raises(ValueError):
        review_record(analysis=flagged, reviewer=reviewer, label="probably_fine", notes="")
    assert not Review.objects.exists()
    flagged.refresh_from_db()
    assert flagged.review_label == ""


def test_owner_report_flags_for_review(make_analysis, user):
    analysis = finished(make_analysis(user), "real", 0.05)
    assert not analysis.flagged
    analysis_report_wrong(analysis=analysis, note="  It is a known face swap.  ")
    analysis.refresh_from_db()
    assert analysis.flagged and analysis.reported_by_owner
    assert analysis.report_note == "It is a known face swap."


def test_owner_report_needs_a_result(make_analysis, user):
    analysis = make_analysis(user)
    with pytest.raises(NoResultToReport):
        analysis_report_wrong(analysis=analysis, note="Looks fake.")
    analysis.refresh_from_db()
    assert not analysis.flagged and not analysis.reported_by_owner


# --- the admin review queue --------------------------------------------------------------


def test_queue_lists_flagged_first_with_filters(reviewer_client, make_analysis, user, flagged):
    finished(make_analysis(user, name="calm.jpg"), "real", 0.02)
    page = reviewer_client.get(CHANGELIST)
    assert page.status_code == 200
    rows = list(page.context["cl"].result_list)
    assert rows[0] == flagged and not rows[1].flagged
    only_flagged = reviewer_client.get(CHANGELIST, {"flagged__exact": "1"})
    assert list(only_flagged.context["cl"].result_list) == [flagged]
    for parameter in ("review_label", "status", "verdict", "media_type", "flagged"):
        assert (
            f"?{parameter}" in page.content.decode() or f"&amp;{parameter}" in page.content.decode()
        )


def test_queue_says_why_each_item_is_flagged(reviewer_client, make_analysis, user):
    fake = finished(make_analysis(user, name="fake.jpg"), "fake", 0.93)
    borderline = finished(make_analysis(user, name="close.jpg"), "inconclusive", 0.52)
    unscored = finished(make_analysis(user, name="nomodel.jpg"), "inconclusive")
    calm = finished(make_analysis(user, name="calm.jpg"), "real", 0.02)
    analysis_report_wrong(analysis=calm, note="")
    assert not unscored.flagged  # nothing a reviewer could settle: no classifier ran
    html = reviewer_client.get(CHANGELIST).content.decode()
    assert "Why flagged" in html
    reasons = {
        name: cell
        for row in re.findall(r"<tr.*?</tr>", html, re.DOTALL)
        for name in [fake, borderline, unscored, calm]
        if f">{name.original_filename}<" in row
        for cell in re.findall(r'<td class="field-flag_reason">(.*?)</td>', row)
    }
    assert reasons == {
        fake: "fake verdict",
        borderline: "score too close to the threshold to call",
        unscored: "-",  # the admin shows an empty value as a dash
        calm: "reported as wrong by the owner",
    }


def test_awaiting_review_filter_leaves_out_decided_items(
    reviewer_client, reviewer, make_analysis, user, flagged
):
    decided = finished(make_analysis(user, name="decided.jpg"), "fake", 0.9)
    unsure = finished(make_analysis(user, name="unsure.jpg"), "inconclusive", 0.52)
    finished(make_analysis(user, name="calm.jpg"), "real", 0.02)
    review_record(analysis=decided, reviewer=reviewer, label="confirmed_fake", notes="")
    review_record(analysis=unsure, reviewer=reviewer, label="needs_more_review", notes="")
    page = reviewer_client.get(CHANGELIST, {"awaiting": "yes"})
    assert set(page.context["cl"].result_list) == {flagged, unsure}
    page = reviewer_client.get(CHANGELIST, {"awaiting": "no"})
    assert list(page.context["cl"].result_list) == [decided]


def test_change_page_previews_the_result_and_records_a_decision(reviewer_client, reviewer, flagged):
    url = f"{CHANGELIST}{flagged.pk}/change/"
    page = reviewer_client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Test verdict fake." in html  # the reasons
    assert "data-verdict>Fake<" in html
    assert f"/admin/detector/analysis/{flagged.pk}/media/" in html
    assert 'id="report-data"' in html and "chart.umd.min.js" in html

    response = reviewer_client.post(
        url,
        {
            "decision": "confirmed_fake",
            "review_notes": "Seams at the jaw.",
            # The read-only history inline's management form, as the browser sends it.
            "reviews-TOTAL_FORMS": "0",
            "reviews-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    review = Review.objects.get(analysis=flagged)
    assert (review.reviewer, review.label_after, review.notes) == (
        reviewer,
        "confirmed_fake",
        "Seams at the jaw.",
    )
    flagged.refresh_from_db()
    assert flagged.review_label == "confirmed_fake"
    assert flagged.verdict == "fake"  # nothing else on the row changed
    assert "Seams at the jaw." in reviewer_client.get(url).content.decode()  # history inline


def test_reviewer_can_open_the_media(reviewer_client, flagged, jpeg_bytes):
    response = reviewer_client.get(f"{CHANGELIST}{flagged.pk}/media/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == jpeg_bytes


def test_bulk_action_asks_for_notes_then_records_each(
    reviewer_client, reviewer, make_analysis, user
):
    first = finished(make_analysis(user, name="a.jpg"), "inconclusive")
    second = finished(make_analysis(user, name="b.jpg"), "fake", 0.8)
    selection = {
        "action": "confirm_real",
        ACTION_CHECKBOX_NAME: [str(first.pk), str(second.pk)],
    }

    form_page = reviewer_client.post(CHANGELIST, selection)
    assert form_page.status_code == 200
    assert 'name="notes"' in form_page.content.decode()
    assert not Review.objects.exists()

    done = reviewer_client.post(
        CHANGELIST, {**selection, "apply": "yes", "notes": "Checked the source."}
    )
    assert done.status_code == 302
    assert set(Review.objects.values_list("analysis_id", "label_after", "notes")) == {
        (first.pk, "confirmed_real", "Checked the source."),
        (second.pk, "confirmed_real", "Checked the source."),
    }
    assert set(Analysis.objects.values_list("review_label", flat=True)) == {"confirmed_real"}


def test_staff_without_review_permission_cannot_review(client, staff_user, flagged):
    staff_user.user_permissions.add(Permission.objects.get(codename="view_analysis"))
    client.force_login(staff_user)
    url = f"{CHANGELIST}{flagged.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="decision"' not in page.content.decode()
    assert (
        client.post(
            url,
            {
                "decision": "confirmed_real",
                "reviews-TOTAL_FORMS": "0",
                "reviews-INITIAL_FORMS": "0",
            },
        ).status_code
        == 403
    )
    changelist = client.get(CHANGELIST)
    assert "confirm_fake" not in changelist.content.decode()
    bulk = client.post(
        CHANGELIST,
        {
            "action": "confirm_real",
            "apply": "yes",
            ACTION_CHECKBOX_NAME: [str(flagged.pk)],
        },
    )
    assert bulk.status_code in {200, 302}
    assert not Review.objects.exists()
    flagged.refresh_from_db()
    assert flagged.review_label == ""


def test_non_staff_never_reach_the_queue(user_client, flagged):
    response = user_client.get(f"{CHANGELIST}{flagged.pk}/change/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert user_client.get(f"{CHANGELIST}{flagged.pk}/media/").status_code == 302


def test_admin_index_links_to_the_job_queue_dashboard(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw-123456")
    client.force_login(admin)
    html = client.get("/admin/").content.decode()
    assert 'href="/admin/django_rq/dashboard/"' in html  # django-rq's entry in the index
    dashboard = client.get("/admin/django_rq/dashboard/")
    assert dashboard.status_code == 200
    assert "default" in dashboard.content.decode()  # the analysis queue is listed
