"""Media is kept only as long as needed: deletion takes every file, retention removes old
uploads but keeps results, and the audit finds files and rows that disagree."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from detector import services
from detector.models import Analysis
from detector.queue.worker import sweep
from tests.support.reports import report_dict

pytestmark = pytest.mark.django_db


def media(analysis: Analysis) -> Path:
    return Path(settings.MEDIA_ROOT) / analysis.media_file


def finished(analysis: Analysis, *, days_old: int = 0) -> Analysis:
    """A done analysis with a thumbnail, uploaded `days_old` days ago."""
    services.analysis_finish(analysis=analysis, report=report_dict("real"))
    assert services.analysis_thumbnail(analysis=analysis).is_file()
    created = timezone.now() - timedelta(days=days_old)
    Analysis.objects.filter(pk=analysis.pk).update(created=created)
    analysis.refresh_from_db()
    return analysis


def test_deleting_an_analysis_removes_its_media_and_derived_files(
    user, make_analysis, django_capture_on_commit_callbacks
):
    analysis = finished(make_analysis(user))
    derived = services.analysis_derived_dir(analysis)
    assert media(analysis).is_file() and derived.is_dir()
    with django_capture_on_commit_callbacks(execute=True):
        services.analysis_delete(analysis=analysis)
    assert not media(analysis).exists() and not derived.exists()


def test_deleting_a_user_removes_the_files_of_all_their_analyses(
    user, make_analysis, png_bytes, django_capture_on_commit_callbacks
):
    first = finished(make_analysis(user))
    second = make_analysis(user, name="b.png", content=png_bytes)
    files = [media(first), media(second), services.analysis_derived_dir(first)]
    assert all(path.exists() for path in files)
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()  # the analyses go by cascade, not through the service
    assert not any(path.exists() for path in files)


def test_retention_removes_old_media_and_keeps_the_results(
    user, make_analysis, png_bytes, django_capture_on_commit_callbacks
):
    old = finished(make_analysis(user), days_old=40)
    recent = finished(make_analysis(user, name="b.png", content=png_bytes), days_old=5)
    old_file, old_thumbnails = media(old), services.analysis_derived_dir(old)

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("media_retention", "--days", "30", stdout=out)
    assert out.getvalue().startswith("1 uploaded files older than 30 days removed")

    old.refresh_from_db()
    recent.refresh_from_db()
    assert not old_file.exists() and not old_thumbnails.exists()
    assert old.media_removed_at is not None and not old.has_media
    assert (old.status, old.verdict, old.result["verdict"]) == ("done", "real", "real")
    assert media(recent).is_file() and recent.has_media


def test_retention_waits_for_an_analysis_still_using_the_file(
    user, make_analysis, django_capture_on_commit_callbacks
):
    old = finished(make_analysis(user), days_old=40)
    services.analysis_reanalyze(analysis=old)  # queued: it will read the same file
    with django_capture_on_commit_callbacks(execute=True):
        assert services.media_retention_apply(days=30) == 0
    assert media(old).is_file()


def test_retention_needs_a_period(settings):
    settings.MEDIA_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="No retention period"):
        call_command("media_retention")


def test_the_worker_sweep_applies_retention_once_a_day(
    user,
    make_analysis,
    png_bytes,
    own_redis,
    settings,
    django_capture_on_commit_callbacks,
):
    import django_rq

    settings.MEDIA_RETENTION_DAYS = 30
    connection = django_rq.get_connection("default")
    first = finished(make_analysis(user), days_old=40)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(connection=connection, force=True)["media_removed"] == 1
    assert not media(first).exists()

    later = finished(make_analysis(user, name="b.png", content=png_bytes), days_old=40)
    with django_capture_on_commit_callbacks(execute=True):
        assert "media_removed" not in sweep(connection=connection, force=True)
    assert media(later).is_file()  # the next run is due tomorrow


def test_the_result_page_copes_without_the_media(
    user, user_client, make_analysis, django_capture_on_commit_callbacks
):
    analysis = finished(make_analysis(user), days_old=40)
    with django_capture_on_commit_callbacks(execute=True):
        services.media_retention_apply(days=30)

    page = user_client.get(reverse("detector:analysis-detail", args=[analysis.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "The uploaded file was deleted on" in html
    assert reverse("detector:analysis-media", args=[analysis.pk]) not in html
    assert "Test verdict real." in html  # the result is still shown
    history = user_client.get(reverse("detector:analysis-list")).content.decode()
    assert reverse("detector:analysis-thumbnail", args=[analysis.pk]) not in history
    printed = user_client.get(reverse("detector:analysis-print", args=[analysis.pk]))
    assert printed.status_code == 200
    for name in ("analysis-media", "analysis-thumbnail"):
        gone = user_client.get(reverse(f"detector:{name}", args=[analysis.pk]))
        assert gone.status_code == 404

    again = user_client.post(
        reverse("detector:analysis-reanalyze", args=[analysis.pk]), follow=True
    )
    assert "removed after the retention period" in again.content.decode()
    assert Analysis.objects.count() == 1

    api = user_client.post(f"/api/v1/analyses/{analysis.pk}/reanalyze/")
    assert api.status_code == 400
    assert "retention period" in api.json()["detail"]
    detail = user_client.get(f"/api/v1/analyses/{analysis.pk}/").json()
    assert detail["media_removed_at"] and detail["result"]["verdict"] == "real"


def age(path: Path, hours: float = 2) -> Path:
    past = time.time() - hours * 3600
    os.utime(path, (past, past))
    return path


def test_media_audit_finds_orphans_and_missing_files_and_fix_repairs_both(
    user, make_analysis, png_bytes, django_capture_on_commit_callbacks
):
    root = Path(settings.MEDIA_ROOT)
    kept = finished(make_analysis(user))
    lost = make_analysis(user, name="b.png", content=png_bytes)
    media(lost).unlink()
    stray_dir = root / "uploads" / "999"
    stray_dir.mkdir(parents=True)
    stray = root / "uploads" / "999" / "stray.jpg"
    stray.write_bytes(b"left behind")
    age(stray)
    dead_derived = root / "derived" / str(uuid.uuid4())
    dead_derived.mkdir(parents=True)
    (dead_derived / "thumbnail.jpg").write_bytes(b"x")
    age(dead_derived)
    fresh = root / "uploads" / str(user.pk) / "being-stored.jpg"
    fresh.write_bytes(b"an upload whose row is not saved yet")

    out = StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("media_audit", stdout=out)
    assert exit_status.value.code == 1
    report = out.getvalue()
    assert "orphan: uploads/999/stray.jpg" in report
    assert f"orphan: derived/{dead_derived.name}" in report
    assert f"missing: {lost.media_file}" in report
    assert "being-stored" not in report and "2 orphaned, 1 missing." in report

    with django_capture_on_commit_callbacks(execute=True):
        call_command("media_audit", "--fix", stdout=StringIO())
    assert not stray.exists() and not stray_dir.exists() and not dead_derived.exists()
    assert fresh.exists() and media(kept).is_file()
    assert services.analysis_derived_dir(kept).is_dir()
    lost.refresh_from_db()
    assert lost.media_removed_at is not None

    clean = StringIO()
    call_command("media_audit", stdout=clean)  # no SystemExit: nothing left to report
    assert clean.getvalue().strip() == "0 orphaned, 0 missing."
