"""A real Celery worker process picks up an import from the real broker (Redis in CI)."""
import pytest
from django.conf import settings
from django.db import transaction

from curation.models import ImportRun, Problem
from curation.services import imports

from .worker import celery_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_import_runs_on_a_real_worker_and_reports_progress(shared_data):
    run = imports.import_run_create(path=str(shared_data / "codecontests"), format_name="codecontests-dir")
    with transaction.atomic():
        imports.import_run_enqueue(run)
    assert ImportRun.objects.get(pk=run.pk).status == "pending"
    with celery_worker(queues="default"):
        finished = wait_for(lambda: ImportRun.objects.filter(pk=run.pk, status__in=["succeeded", "partial", "failed"]).first(), timeout=300)
    assert finished.status == "succeeded", finished.errors[:3]
    assert finished.created_count == 383 and finished.total == 383 and finished.progress == 1.0
    assert Problem.objects.count() == 383
    # The run went through the broker the settings name (Redis in CI), not an eager shortcut.
    assert not settings.CELERY_TASK_ALWAYS_EAGER
