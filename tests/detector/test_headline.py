"""One headline answer: where a reviewer decided, pages, the API, exports and callbacks lead with
the reviewer's answer and keep the machine's verdict beside it; a re-analysis carries the review
forward and goes back to a reviewer when it disagrees."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from detector import services
from detector.flags import REVIEW_DISAGREES, review_reasons
from detector.models import Analysis
from detector.presenters import analysis_public_dict
from detector.services.webhooks import callback_payload
from tests.support.api import LIST_URL, api_client_for, detail_url
from tests.support.reports import report_dict
from tests.support.uploads import image_bytes

pytestmark = pytest.mark.django_db


def finish(analysis: Analysis, verdict: str, probability: float | None) -> Analysis:
    services.analysis_mark_running(analysis=analysis)
    services.analysis_finish(analysis=analysis, report=report_dict(verdict, probability))
    return Analysis.objects.get(pk=analysis.pk)


@pytest.fixture
def reviewed(user, staff_user, make_analysis) -> Analysis:
    """A photo the machine called real at 0 %, confirmed fake by a reviewer."""
    analysis = finish(make_analysis(user, name="swap.jpg"), "real", 0.001)
    services.review_record(analysis=analysis, reviewer=staff_user, label="confirmed_fake")
    return Analysis.objects.get(pk=analysis.pk)


def test_the_result_page_leads_with_the_reviewers_answer(user_client, reviewed):
    html = user_client.get(reverse("detector:analysis-detail", args=[reviewed.pk])).content
    html = html.decode()
    headline = html[html.index("data-headline") : html.index("</h2>", html.index("data-headline"))]
    assert "Reviewed:" in headline
    assert 'class="badge verdict-fake" data-answer>Fake<' in headline
    assert "Machine:" in headline and "data-verdict>Real<" in headline and "0 %" in headline


def test_the_history_leads_with_the_reviewers_answer(user_client, reviewed):
    html = user_client.get(reverse("detector:analysis-list")).content.decode()
    cell = html[
        html.index("data-answer-cell") : html.index("</td>", html.index("data-answer-cell"))
    ]
    assert "data-answer>Fake<" in cell and "machine: real" in cell


def test_the_api_gives_a_review_block_beside_the_verdict(user, reviewed):
    data = api_client_for(user).get(detail_url(reviewed)).json()
    assert data["verdict"] == "real"
    assert data["answer"] == "fake"
    review = data["review"]
    assert review["label"] == "confirmed_fake" and review["truth"] == "fake"
    assert review["contradicts_verdict"] is True
    assert review["analysis"] == str(reviewed.pk) and review["carried_forward"] is False
    assert review["reviewed"]


def test_unreviewed_analyses_answer_with_the_verdict(user, make_analysis):
    analysis = finish(make_analysis(user), "fake", 0.9)
    data = analysis_public_dict(analysis=analysis, fields=("answer", "review"))
    assert data == {"answer": "fake", "review": None}


def test_needs_more_review_is_no_answer(user, staff_user, make_analysis):
    analysis = finish(make_analysis(user), "fake", 0.9)
    services.review_record(analysis=analysis, reviewer=staff_user, label="needs_more_review")
    data = analysis_public_dict(analysis=analysis, fields=("answer", "review"))
    assert data["answer"] == "fake" and data["review"]["truth"] is None


def test_the_finished_callback_carries_the_answer_and_review(user, staff_user, make_analysis):
    analysis = make_analysis(user, callback_url="https://example.org/hook")
    analysis = finish(analysis, "real", 0.1)
    services.review_record(analysis=analysis, reviewer=staff_user, label="confirmed_fake")
    payload = callback_payload(analysis=Analysis.objects.get(pk=analysis.pk))
    assert payload["answer"] == "fake" and payload["review"]["truth"] == "fake"


def test_a_reanalysis_carries_the_review_forward_and_is_flagged_when_it_disagrees(reviewed):
    again = finish(services.analysis_reanalyze(analysis=reviewed), "real", 0.02)
    assert again.flagged  # real at 2 % alone would not be flagged
    review = analysis_public_dict(analysis=again, fields=("review",))["review"]
    assert review["carried_forward"] is True and review["analysis"] == str(reviewed.pk)
    assert review["contradicts_verdict"] is True


def test_a_reanalysis_that_agrees_with_the_review_is_not_flagged_for_it(
    user, staff_user, make_analysis
):
    first = finish(make_analysis(user), "real", 0.02)
    services.review_record(analysis=first, reviewer=staff_user, label="confirmed_real")
    again = finish(services.analysis_reanalyze(analysis=first), "real", 0.03)
    assert not again.flagged


def test_the_disagreement_is_a_flag_reason_in_words():
    assert REVIEW_DISAGREES in review_reasons(
        report_dict("real", 0.02), earlier_review="confirmed_fake"
    )
    assert not review_reasons(report_dict("real", 0.02), earlier_review="confirmed_real")


def test_another_users_review_of_the_same_bytes_is_never_carried(
    user, other_user, staff_user, make_analysis, jpeg_bytes
):
    mine = finish(make_analysis(user, content=jpeg_bytes), "real", 0.02)
    services.review_record(analysis=mine, reviewer=staff_user, label="confirmed_fake")
    theirs = finish(make_analysis(other_user, content=jpeg_bytes), "real", 0.02)
    assert not theirs.flagged
    assert analysis_public_dict(analysis=theirs, fields=("review",)) == {"review": None}


def test_the_schema_documents_the_review_block(user):
    response = api_client_for(user).get(reverse("api:schema"), {"format": "json"})
    schemas = json.loads(response.content)["components"]["schemas"]
    analysis = schemas["Analysis"]["properties"]
    assert "answer" in analysis and "review" in analysis
    review = schemas["ReviewSummary"]["properties"]
    assert {"label", "truth", "contradicts_verdict", "analysis", "carried_forward"} <= set(review)


def _queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_history_and_the_api_find_reviews_in_queries_per_page_not_per_row(
    user, staff_user, user_client, make_analysis, tmp_path
):
    added = []

    def add(files: int) -> None:
        """Each file reviewed, then uploaded again: the second run carries the review."""
        for _ in range(files):
            content = image_bytes(tmp_path, side=200 + len(added))
            first = finish(make_analysis(user, name="a.jpg", content=content), "real", 0.1)
            services.review_record(analysis=first, reviewer=staff_user, label="confirmed_fake")
            added.append(finish(make_analysis(user, name="b.jpg", content=content), "real", 0.1))

    api = api_client_for(user)
    history = reverse("detector:analysis-list")
    add(1)
    few = _queries(user_client, history)[0], _queries(api, LIST_URL)[0]
    add(11)  # 24 rows: one page
    page_queries, page = _queries(user_client, history)
    api_queries, listed = _queries(api, LIST_URL)
    assert (page_queries, api_queries) == few
    assert page.count("(earlier run)") == 12 and page.count("data-answer>Fake<") == 24
    reviews = [a["review"] for a in json.loads(listed)["results"]]
    assert sum(r["carried_forward"] for r in reviews) == 12 and all(r["reviewed"] for r in reviews)
