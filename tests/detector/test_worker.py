"""The analysis worker class itself, run in this process in burst mode: jobs run in it."""

from __future__ import annotations

import django_rq
import pytest

from detector.queue.worker import AnalysisWorker
from ml.faces import detect as faces

pytestmark = pytest.mark.django_db(transaction=True)


def face_models_loaded_in_this_process() -> bool:
    """The job: runs in the worker's own process."""
    return faces._dlib_models.cache_info().currsize == 1


def test_the_worker_loads_the_face_models_before_its_first_job():
    faces._dlib_models.cache_clear()  # as in a freshly started worker
    queue = django_rq.get_queue("default")
    queue.empty()
    job = queue.enqueue(face_models_loaded_in_this_process)
    try:
        AnalysisWorker([queue], connection=queue.connection).work(burst=True)
        job.refresh()
        assert job.get_status() == "finished"
        # Loaded once when the worker starts, not by the job.
        assert job.return_value() is True
    finally:
        queue.empty()
