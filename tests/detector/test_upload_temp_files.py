"""An interrupted upload (its web worker killed mid-stream) once left its temp file in /tmp,
where `media_audit` never looked: 131 MB per interrupted upload, for ever."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from detector.media_audit import AUDIT_GRACE, media_audit, media_audit_fix
from tests.support.interrupted import start_interrupted_upload, wait_for_temp_file

pytestmark = pytest.mark.django_db


def test_an_interrupted_uploads_temp_file_is_swept_after_the_age_limit(
    settings, media_root, capsys
):
    temp_dir = Path(settings.FILE_UPLOAD_TEMP_DIR)
    assert temp_dir == media_root / "tmp"
    child = start_interrupted_upload(media_root)
    try:
        leftover = wait_for_temp_file(temp_dir)
    finally:
        child.send_signal(signal.SIGTERM)  # what a restart does to a gunicorn worker
        child.wait(timeout=30)
    assert leftover.is_file() and leftover.parent == temp_dir  # not in /tmp, and left behind
    assert temp_dir.stat().st_mode & 0o777 == 0o700

    # Young, it may still be streaming: left alone.
    assert media_audit().stale_temp == []
    old = time.time() - AUDIT_GRACE.total_seconds() - 60
    os.utime(leftover, (old, old))

    with pytest.raises(SystemExit):
        call_command("media_audit")
    assert f"interrupted upload: {leftover}" in capsys.readouterr().out
    audit = media_audit()
    assert audit.stale_temp == [leftover] and not audit.clean
    media_audit_fix(audit)
    assert not leftover.exists()
    assert media_audit().clean
