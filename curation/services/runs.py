"""Status and progress bookkeeping shared by every run row (imports, stage runs, exports and
training runs' step progress)."""
from __future__ import annotations

import logging

from django.db import models
from django.utils import timezone

from curation.judge import mode as judge_modes
from curation.models import RunStatus

MAX_STORED_ERRORS = 1000
logger = logging.getLogger(__name__)


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


def run_judge_mode_add(run: models.Model, mode: dict) -> None:
    """Fold one judgement's mode (curation.judge.mode) into a run row's `judge_mode`: the
    weakest seen so far. Written at once, so the run's page says how it is judging while it runs;
    only when it changes, so a long run costs one UPDATE, not one per solution."""
    merged = judge_modes.weakest(run.judge_mode, mode)
    if merged and merged != run.judge_mode:
        run.judge_mode = merged
        type(run).objects.filter(pk=run.pk).update(judge_mode=merged)


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


# --- per-problem isolation ------------------------------------------------------------------


class ProblemFailures:
    """One bad problem must never stop a stage. Each problem's work runs in its own savepoint;
    a failure rolls back only that problem, is recorded on it (`Problem.stage_errors[stage]`) and
    in the run (`errors` naming the problem and step, `counts["failed"]`), and the run goes on —
    ending `partial` (run_finish) instead of `failed`.

        failures = ProblemFailures(run, "samples")
        for problem in batch:
            ok, added = failures.attempt(problem.pk, problem_samples_extract, problem)
        failures.flush(ok_ids)   # clear earlier errors of the problems that now succeeded
    """

    def __init__(self, run, step: str, *, stage: str | None = None, on_failure: dict | None = None,
                 counts: dict | None = None) -> None:
        # Work without a run row (a snapshot) keeps its errors here, for its own record.
        run = run if run is not None else _Unsaved()
        self.run = run
        # Where "failed" is counted: the run's counts, or a step's own entry in them (process).
        self.counts = counts if counts is not None else getattr(run, "counts", None)
        if self.counts is None:
            self.counts = {}
        self.step = step
        self.stage = stage or getattr(run, "stage", "") or step
        self.on_failure = on_failure or {}  # extra fields set on a failed problem (process_status=failed)
        self.failed = 0
        self.failed_ids: set[int] = set()

    def attempt(self, problem_id: int, fn, *args, **kwargs):
        """(True, fn's result) or (False, None) with the failure recorded."""
        from django.db import transaction

        try:
            with transaction.atomic():
                return True, fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 — recorded on the problem and the run
            self.record(problem_id, exc)
            return False, None

    def record(self, problem_id: int, error) -> None:
        from curation.models import Problem

        message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        message = " ".join(message.split())[:500]
        logger.warning("%s: problem %s failed: %s", self.step, problem_id, message)
        self.failed += 1
        label = problem_id
        try:
            problem_id = int(problem_id)
        except (TypeError, ValueError):
            problem_id = None  # an item whose problem is gone: recorded on the run only
        if problem_id is not None:
            self.failed_ids.add(problem_id)
        self.counts["failed"] = self.counts.get("failed", 0) + 1
        self.run.errors = list(self.run.errors) + [{"record": f"problem {label}", "field": self.step, "message": message}]
        if self.run.pk is not None:
            # Narrow UPDATEs: the run row's errors and counts, the problem's own error.
            fields = {"errors": self.run.errors[:MAX_STORED_ERRORS]}
            if hasattr(self.run, "counts"):
                fields["counts"] = self.run.counts
            type(self.run).objects.filter(pk=self.run.pk).update(**fields)
        if problem_id is None:
            return
        current = Problem.objects.filter(pk=problem_id).values_list("stage_errors", flat=True).first()
        if current is None:
            return
        errors = dict(current or {})
        errors[self.stage] = {"step": self.step, "message": message, "run": self.run.pk}
        Problem.objects.filter(pk=problem_id).update(stage_errors=errors, **self.on_failure)

    def clear(self, problem_ids) -> None:
        """Forget this step's earlier error on problems that have now gone through it."""
        from curation.models import Problem

        ids = [pk for pk in problem_ids if pk not in self.failed_ids]
        stale = Problem.objects.filter(pk__in=ids).exclude(stage_errors={}).values_list("pk", "stage_errors")
        for pk, errors in stale:
            # Only this step's own error: a later step of the stage succeeding does not undo it.
            if self.stage in (errors or {}) and errors[self.stage].get("step", self.step) == self.step:
                errors = {k: v for k, v in errors.items() if k != self.stage}
                Problem.objects.filter(pk=pk).update(stage_errors=errors)


class _Unsaved:
    pk = None
    stage = ""

    def __init__(self) -> None:
        self.errors: list[dict] = []
        self.counts: dict = {}
