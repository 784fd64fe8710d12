"""The background jobs: run the science on one stored upload and record the outcome; deliver
the callbacks (result, review).

The analysis job always ends with the row `done` or `failed`. Expected problems (unreadable media) show
their own message; anything else is logged with its traceback and the user gets a generic
message with a short reference to quote. The worker itself keeps running.
"""

from __future__ import annotations

import logging
import uuid

from rq import get_current_job
from rq.exceptions import AbandonedJobError
from rq.timeouts import JobTimeoutException

import ml
from detector.models import Analysis, Review
from detector.previews import analysis_preview_make
from detector.queue.log_context import logs_analysis_id
from detector.queue.state import JobEnd
from detector.selectors import model_options, models_chosen, policy_card_active
from detector.services import (
    analysis_fail,
    analysis_finish,
    analysis_mark_running,
    analysis_media_path,
    analysis_recover,
    analysis_set_progress,
)
from detector.services.webhooks import callback_post, review_callback_post
from ml.errors import MediaError, ModelError
from ml.models.classify import unload_models_except
from ml.options import AnalysisOptions, ModelSpecs

logger = logging.getLogger(__name__)


@logs_analysis_id
def callback_deliver(analysis_id: str) -> int:
    """Deliver the result callback of an analysis (services.webhooks); RQ retries failures."""
    analysis = Analysis.objects.select_related("owner").filter(pk=analysis_id).first()
    if analysis is None or not analysis.callback_url:
        return 0  # deleted meanwhile, or no callback wanted: nothing to deliver
    return callback_post(analysis=analysis)


def review_callback_deliver(review_id: int) -> int:
    """Deliver a review's `analysis.reviewed` callback (services.webhooks); RQ retries failures."""
    review = Review.objects.select_related("analysis__owner").filter(pk=review_id).first()
    if review is None or not review.analysis.callback_url:
        return 0  # deleted meanwhile, or no callback wanted: nothing to deliver
    return review_callback_post(review=review)


@logs_analysis_id
def run_analysis(analysis_id: str) -> None:
    analysis = Analysis.objects.filter(pk=analysis_id).first()
    if analysis is None:
        logger.info("Analysis %s was deleted before it ran", analysis_id)
        return
    job = get_current_job()
    if not analysis_mark_running(analysis=analysis, job_id=job.id if job else None):
        logger.info(
            "Analysis %s is %s under another job; nothing to do",
            analysis_id,
            analysis.status,
        )
        return
    try:
        report = _analyze(analysis)
    except MediaError as error:
        analysis_fail(analysis=analysis, reason=str(error))
    except ModelError as error:
        logger.error("Analysis %s: detector model unusable: %s", analysis_id, error)
        analysis_fail(
            analysis=analysis,
            reason=f"The installed detector model is unusable: {error}",
        )
    except JobTimeoutException:
        analysis_fail(analysis=analysis, reason=_timeout_message())
    except Exception:  # noqa: BLE001  (any bug: logged, the worker lives on)
        analysis_fail(analysis=analysis, reason=_internal_error(analysis_id))
    else:
        analysis_finish(analysis=analysis, report=report)


def _analyze(analysis: Analysis) -> dict:
    path = analysis_media_path(analysis)
    if not path.is_file():
        raise MediaError("The uploaded file is no longer available. Please upload it again.")
    # The stored options are the user's; the models are the ones active now, so a re-analysis
    # scores with today's models (only the active ones it chose, when it chose some).
    options = AnalysisOptions.from_dict(analysis.options)
    models = ModelSpecs.from_dict(model_options(models_chosen(analysis.options)))
    # The worker keeps models loaded between jobs: only the active ones, so a changed set
    # frees the old models and the first job after the change loads the new ones.
    unload_models_except(models.sha256s())

    def progress(percent: int, stage: str) -> None:
        analysis_set_progress(analysis=analysis, percent=percent, stage=stage)

    # The active policy card judges when it was calibrated with these models; the Report
    # records which policy judged.
    report = ml.analyze(
        str(path), options, progress=progress, models=models, policy=policy_card_active()
    )
    analysis_preview_make(analysis=analysis)
    return report.to_dict()


def _internal_error(analysis_id) -> str:
    reference = uuid.uuid4().hex[:8]
    logger.exception("Analysis %s failed (reference %s)", analysis_id, reference)
    return f"The analysis failed because of an internal error (reference {reference})."


def _timeout_message() -> str:
    return "The analysis took longer than allowed and was stopped. Try a shorter clip."


def run_analysis_failed(job, connection, exc_type=None, exc_value=None, traceback=None) -> None:
    """RQ's failure callback: a job that died (timeout, lost worker) never stays "running".

    A job whose whole worker vanished reaches here from RQ's registry cleanup as abandoned:
    the analysis is then queued once more, like one whose job process was killed.
    """
    if not job.args:
        return
    if exc_type is not None and issubclass(exc_type, AbandonedJobError):
        analysis_recover(analysis_id=job.args[0], job_id=job.id, end=JobEnd())
        return
    analysis = Analysis.objects.filter(pk=job.args[0]).first()
    if analysis is None or analysis.is_finished:
        return
    if exc_type is not None and issubclass(exc_type, JobTimeoutException):
        reason = _timeout_message()
    else:
        reason = "The analysis stopped unexpectedly. Please try again."
    logger.error("Analysis %s: job %s failed: %s", analysis.pk, job.id, exc_value)
    analysis_fail(analysis=analysis, reason=reason, job_id=job.id)
