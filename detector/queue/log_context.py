"""Log lines that say which analysis they belong to.

While an analysis job runs, the analysis id sits in a context variable; the logging filter
copies it onto every record (from any module: detector, ml, rq), so the formatter can print it.
Outside a job the field reads "-". `LOG_FORMAT=json` writes one JSON object per line.

Imported by the logging configuration, before Django's apps are ready: no models here.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

NO_ANALYSIS = "-"
_analysis_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "analysis_id", default=NO_ANALYSIS
)

F = TypeVar("F", bound=Callable[..., Any])


def logs_analysis_id(job: F) -> F:
    """Decorate a job whose first argument is an analysis id: its log lines carry that id."""

    @functools.wraps(job)
    def run(analysis_id, *args, **kwargs):
        token = _analysis_id.set(str(analysis_id))
        try:
            return job(analysis_id, *args, **kwargs)
        finally:
            _analysis_id.reset(token)

    return run  # type: ignore[return-value]


def current_analysis_id() -> str:
    return _analysis_id.get()


class AnalysisIdFilter(logging.Filter):
    """Adds `analysis_id` to every record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.analysis_id = _analysis_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, analysis_id, message (and traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "analysis_id": getattr(record, "analysis_id", NO_ANALYSIS),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)
