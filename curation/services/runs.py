"""Status and progress bookkeeping shared by every run row (imports, stage runs, exports and
training runs' step progress)."""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from curation.models import RunStatus

MAX_STORED_ERRORS = 1000


def run_start(run: models.Model, *, total: int | None = None) -> None:
    run.status = RunStatus.RUNNING
    run.started_at = timezone.now()
    run.total = total
    run.done = 0
    type(run).objects.filter(pk=run.pk).update(status=run.status, started_at=run.started_at, total=total, done=0)


def run_progress(run: models.Model, *, done: int, total: int | None = None, **counts) -> None:
    """Update progress with a narrow UPDATE so concurrent readers never see a half-written row."""
    run.done = done
    fields = {"done": done, **counts}
    if total is not None:
        run.total = total
        fields["total"] = total
    for name, value in counts.items():
        setattr(run, name, value)
    type(run).objects.filter(pk=run.pk).update(**fields)


def run_finish(run: models.Model, *, failed: bool = False, message: str = "") -> None:
    has_errors = bool(run.errors)
    run.status = RunStatus.FAILED if failed else (RunStatus.PARTIAL if has_errors else RunStatus.SUCCEEDED)
    run.finished_at = timezone.now()
    if message:
        run.message = message
    if run.total is None or run.total < run.done:
        run.total = run.done
    run.errors = run.errors[:MAX_STORED_ERRORS]
    run.save()
    if type(run).emits_run_finished:
        # Subscribers hear of it after the final state is committed.
        from curation.services.webhooks import run_finished_emit

        run_finished_emit(run)
