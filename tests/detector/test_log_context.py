"""Log lines written while an analysis job runs carry the analysis id."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.db import connection

from detector.queue.log_context import AnalysisIdFilter, JsonFormatter, logs_analysis_id
from detector.services import analysis_media_path

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def console():
    """What the console handler configured by settings.LOGGING writes."""
    [handler] = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, AnalysisIdFilter) for f in h.filters)
    ]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.fixture
def sql_logged():
    """Django logs every SQL statement (logger django.db.backends): lines from outside our code."""
    sql = logging.getLogger("django.db.backends")
    level = sql.level
    sql.setLevel(logging.DEBUG)
    yield lambda on: setattr(connection, "force_debug_cursor", on)
    connection.force_debug_cursor = False
    sql.setLevel(level)


def test_lines_written_during_a_job_name_its_analysis(
    user, make_analysis, rq_worker, console, sql_logged
):
    analysis = make_analysis(user)  # committed at once: the job is queued
    analysis_media_path(analysis).unlink()  # the job fails fast, with a message
    logging.getLogger("tests").warning("before the job")

    sql_logged(True)
    rq_worker()
    sql_logged(False)

    lines = console.getvalue().splitlines()
    assert any("tests [-]: before the job" in line for line in lines)
    sql_lines = [line for line in lines if " django.db.backends " in line]
    assert len(sql_lines) >= 2  # the job read the row and wrote its failure
    assert all(f"django.db.backends [{analysis.pk}]: " in line for line in sql_lines)
    analysis.refresh_from_db()
    assert analysis.status == "failed"


def test_json_lines_carry_the_analysis_id():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(AnalysisIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.json")
    logger.addHandler(handler)

    @logs_analysis_id
    def job(analysis_id):
        logger.warning("inside %s", "the job")

    try:
        job("0b6f1c1e-0000-4000-8000-000000000001")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)

    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["analysis_id"] == "0b6f1c1e-0000-4000-8000-000000000001"
    assert inside["message"] == "inside the job"
    assert inside["level"] == "WARNING" and inside["logger"] == "tests.json"
    assert outside["analysis_id"] == "-"
