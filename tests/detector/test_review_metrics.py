"""The staff Metrics page: counts, error rates, AUC and calibration from reviewed analyses, and
its CSV export. Analyses are finished and reviewed through the real services."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib.auth.models import Permission

from detector import services
from detector.metrics import calibration_bins, review_metrics
from ml.verdict.report import ClassifierInfo
from tests.support.detector_models import detector_model_create
from tests.support.reports import report_dict

pytestmark = pytest.mark.django_db

PAGE = "/admin/detector/analysis/metrics/"
CSV_EXPORT = "/admin/detector/analysis/metrics.csv"


@pytest.fixture
def reviewer(staff_user):
    staff_user.user_permissions.add(Permission.objects.get(codename="review_analysis"))
    return staff_user


@pytest.fixture
def models():
    return {
        "meso": detector_model_create(name="meso", version="1", sha256="a" * 64, active=True),
        "effnet": detector_model_create(name="effnet", version="2", sha256="b" * 64, active=True),
        "old": detector_model_create(name="old", version="0", sha256="c" * 64, active=False),
    }


def classifier(model) -> ClassifierInfo:
    return ClassifierInfo(name=model.name, version=model.version, sha256=model.sha256)


# (truth label, verdict, fake probability, models that scored it)
CRAFTED = [
    ("confirmed_fake", "fake", 0.9, ["meso"]),
    ("confirmed_fake", "real", 0.3, ["meso"]),  # a fake called real
    ("confirmed_fake", "inconclusive", 0.6, ["meso", "effnet"]),
    ("confirmed_real", "real", 0.1, ["meso"]),
    ("confirmed_real", "fake", 0.7, ["effnet"]),  # a real called fake
    ("confirmed_real", "inconclusive", 0.4, ["effnet"]),
    ("confirmed_real", "real", 0.2, ["old"]),  # an inactive model: the whole verdict only
]


@pytest.fixture
def reviewed(make_analysis, user, reviewer, models):
    """The crafted reviewed analyses, plus two that are no ground truth."""
    analyses = []
    for index, (label, verdict, probability, names) in enumerate(CRAFTED):
        report = report_dict(
            verdict, probability, classifiers=[classifier(models[n]) for n in names]
        )
        analysis = make_analysis(user, name=f"item{index}.jpg")
        services.analysis_finish(analysis=analysis, report=report)
        services.review_record(analysis=analysis, reviewer=reviewer, label=label)
        analyses.append(analysis)
    unreviewed = make_analysis(user, name="unreviewed.jpg")
    services.analysis_finish(analysis=unreviewed, report=report_dict("fake", 0.95))
    undecided = make_analysis(user, name="undecided.jpg")
    services.analysis_finish(analysis=undecided, report=report_dict("fake", 0.85))
    services.review_record(analysis=undecided, reviewer=reviewer, label="needs_more_review")
    return analyses


def row_of(html: str, group: str) -> dict[str, str]:
    row = re.search(rf'<tr data-group="{re.escape(group)}">(.*?)</tr>', html, re.DOTALL).group(1)
    return dict(re.findall(r'data-metric="(\w+)"[^>]*>([^<]*)<', row))


def test_metrics_of_the_verdict_and_of_each_active_model(reviewed):
    groups = {group.name: group for group in review_metrics()}
    assert list(groups) == ["All verdicts", "effnet 2", "meso 1"]  # "old 0" is inactive

    whole = groups["All verdicts"]
    assert (whole.count, whole.fakes, whole.reals, whole.scored) == (7, 3, 4, 7)
    # Fake scores 0.9, 0.3, 0.6 against real 0.1, 0.7, 0.4, 0.2: 9 of 12 pairs in order.
    assert whole.auc == pytest.approx(9 / 12)
    assert whole.false_positive_rate == pytest.approx(1 / 4)
    assert whole.false_negative_rate == pytest.approx(1 / 3)
    assert whole.inconclusive_rate == pytest.approx(2 / 7)

    meso = groups["meso 1"]
    assert (meso.count, meso.fakes, meso.reals) == (4, 3, 1)
    assert meso.auc == pytest.approx(1.0)
    assert (meso.false_positive_rate, meso.false_negative_rate) == (0.0, pytest.approx(1 / 3))

    effnet = groups["effnet 2"]
    assert (effnet.count, effnet.fakes, effnet.reals) == (3, 1, 2)
    assert effnet.auc == pytest.approx(0.5)  # 0.6 above 0.4, below 0.7
    assert effnet.false_positive_rate == pytest.approx(1 / 2)
    assert effnet.inconclusive_rate == pytest.approx(2 / 3)


def test_the_page_shows_the_numbers_and_the_calibration_chart(client, reviewer, reviewed):
    client.force_login(reviewer)
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert row_of(html, "All verdicts") == {
        "count": "7",
        "fakes": "3",
        "reals": "4",
        "auc": "0.750",
        "false_positive": "1 of 4 (25 %)",
        "false_negative": "1 of 3 (33 %)",
        "inconclusive": "2 of 7 (29 %)",
    }
    assert row_of(html, "meso 1")["auc"] == "1.000"
    assert row_of(html, "effnet 2")["false_positive"] == "1 of 2 (50 %)"
    assert 'data-group="old 0"' not in html
    assert 'id="calibration-chart"' in html and "chart.umd.min.js" in html
    assert 'id="calibration-data"' in html and "js/metrics.js" in html
    # The admin index links the page.
    assert f'href="{PAGE}"' in client.get("/admin/").content.decode()


def test_auc_waits_for_both_truths(client, reviewer, make_analysis, user):
    analysis = make_analysis(user)
    services.analysis_finish(analysis=analysis, report=report_dict("fake", 0.9))
    services.review_record(analysis=analysis, reviewer=reviewer, label="confirmed_fake")
    [whole] = review_metrics()
    assert (whole.count, whole.auc, whole.false_positive_rate) == (1, None, None)
    client.force_login(reviewer)
    assert row_of(client.get(PAGE).content.decode(), "All verdicts")["auc"] == "—"


def test_calibration_bins_hold_the_mean_score_and_the_share_of_fakes():
    bins = calibration_bins([(0.05, False), (0.08, True), (0.95, True), (1.0, True)])
    assert [(b.low, b.high, b.count) for b in bins] == [(0.0, 0.1, 2), (0.9, 1.0, 2)]
    assert bins[0].mean_probability == pytest.approx(0.065)
    assert (bins[0].fraction_fake, bins[1].fraction_fake) == (0.5, 1.0)
    assert bins[1].mean_probability == pytest.approx(0.975)


def test_the_csv_has_one_row_per_reviewed_analysis(client, reviewer, reviewed):
    client.force_login(reviewer)
    response = client.get(CSV_EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == len(CRAFTED)  # neither the unreviewed nor "needs more review"
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {str(a.pk) for a in reviewed}
    both = by_id[str(reviewed[2].pk)]
    assert both == {
        "id": str(reviewed[2].pk),
        "model": "effnet 2+meso 1",
        "verdict": "inconclusive",
        "fake_probability": "0.6",
        "review_label": "confirmed_fake",
        "truth": "fake",
    }


def test_non_staff_are_refused(client, user_client, reviewed):
    for anyone in (client, user_client):
        for url in (PAGE, CSV_EXPORT):
            response = anyone.get(url)
            assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_who_may_not_view_analyses_are_refused(client, django_user_model, reviewed):
    staff_user = django_user_model.objects.create_user("dave", password="pw-123456", is_staff=True)
    client.force_login(staff_user)
    assert client.get(PAGE).status_code == 403
    assert client.get(CSV_EXPORT).status_code == 403
    assert f'href="{PAGE}"' not in client.get("/admin/").content.decode()
    staff_user.user_permissions.add(Permission.objects.get(codename="view_analysis"))
    assert client.get(PAGE).status_code == 200
