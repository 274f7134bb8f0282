"""Training runs: the state machine (one place), and the user actions — create and launch,
cancel, retry — each one transaction with one audit row; tasks go out after commit.

    draft → queued → submitting → pending → running → succeeded | failed | cancelled | lost
    failed | cancelled | lost → queued (retry: a new attempt, resuming from the last checkpoint)
"""
from __future__ import annotations

import logging
import secrets

from django.db import transaction
from django.utils import timezone

from curation.models import DatasetSnapshot
from curation.roles import user_has_role
from curation.services.audit import audit_event_record
from training_jobs.models import (
    TERMINAL_STATUSES,
    ComputeTarget,
    EventKind,
    Recipe,
    RunAttempt,
    TrainingEvent,
    TrainingRun,
)
from training_jobs.models import TrainingStatus as S
from training_jobs.specs.params import RecipeParamsError, base_model_validate, params_normalize

logger = logging.getLogger(__name__)

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.QUEUED, S.CANCELLED}),
    S.QUEUED: frozenset({S.SUBMITTING, S.CANCELLED, S.FAILED}),
    # A job can finish between two polls: pending may jump straight to a final state.
    S.SUBMITTING: frozenset({S.PENDING, S.RUNNING, S.SUCCEEDED, S.FAILED, S.CANCELLED, S.LOST}),
    S.PENDING: frozenset({S.RUNNING, S.SUCCEEDED, S.FAILED, S.CANCELLED, S.LOST}),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.CANCELLED, S.LOST}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset({S.QUEUED}),
    S.CANCELLED: frozenset({S.QUEUED}),
    S.LOST: frozenset({S.QUEUED}),
}
TRAINING_ROLE = "trainer"


class TrainingInputError(ValueError):
    """A request that cannot be honoured; `field` names the offending input."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class TransitionError(TrainingInputError):
    def __init__(self, run: TrainingRun, to: str):
        super().__init__("status", f"run {run.pk} cannot go from {run.status} to {to}")


def training_run_transition(run: TrainingRun, to: str, *, attempt: RunAttempt | None = None, message: str = "",
                            actor=None, kind: str = EventKind.STATUS) -> bool:
    """Move `run` to `to` and record the event; False when it already was there. Call inside the
    transaction that holds the run's row; `training_run.finished` goes out after commit."""
    if run.status == to:
        return False
    if to not in TRANSITIONS[run.status]:
        raise TransitionError(run, to)
    now = timezone.now()
    TrainingEvent.objects.create(run=run, attempt=attempt, kind=kind, from_status=run.status, to_status=to,
                                 message=message[:2000], actor=actor if getattr(actor, "is_authenticated", False) else None)
    run.status = to
    run.status_changed_at = now
    fields = ["status", "status_changed_at"]
    if to == S.RUNNING and run.started_at is None:
        run.started_at = now
        fields.append("started_at")
    if to in TERMINAL_STATUSES:
        run.finished_at = now
        fields.append("finished_at")
        if message:
            run.message = message[:2000]
            fields.append("message")
    elif to == S.QUEUED:
        run.finished_at = None
        fields.append("finished_at")
    run.save(update_fields=fields)
    if to in TERMINAL_STATUSES:
        payload = training_run_event_payload(run)
        transaction.on_commit(lambda: _emit_finished(payload))
    return True


def training_run_event_payload(run: TrainingRun) -> dict:
    return {
        "id": run.pk,
        "name": run.name,
        "status": run.status,
        "framework": run.config.get("framework"),
        "algorithm": run.config.get("algorithm"),
        "train_snapshot": run.train_snapshot_id,
        "target": run.target.name if run.target_id else None,
        "steps_done": run.done,
        "total_steps": run.total,
        "attempts": run.attempts.count(),
        "message": run.message,
    }


def _emit_finished(payload: dict) -> None:
    from curation.services.webhooks import webhook_event_emit

    webhook_event_emit("training_run.finished", payload)


# --- actions ----------------------------------------------------------------------------------


def _require_trainer(user) -> None:
    if not user_has_role(user, TRAINING_ROLE):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("launching, cancelling or retrying training needs the trainer or admin role")


def recipe_create(*, name: str, framework: str, algorithm: str, base_model: str, params: dict | None, user) -> Recipe:
    if framework not in ("verl", "trl"):
        raise TrainingInputError("framework", "expected verl or trl")
    try:
        normalized = params_normalize(params, algorithm=algorithm)
        base_model = base_model_validate(base_model)
    except RecipeParamsError as exc:
        raise TrainingInputError(exc.field, exc.message) from exc
    return Recipe.objects.create(name=name or f"{framework} {algorithm}", framework=framework, algorithm=algorithm,
                                 base_model=base_model, params=normalized,
                                 created_by=user if getattr(user, "is_authenticated", False) else None)


def recipe_config(recipe: Recipe) -> dict:
    """The recipe as a run freezes it (params normalised again: defaults may have grown)."""
    try:
        params = params_normalize(recipe.params, algorithm=recipe.algorithm)
    except RecipeParamsError as exc:
        raise TrainingInputError(f"recipe.{exc.field}", exc.message) from exc
    return {"framework": recipe.framework, "algorithm": recipe.algorithm, "base_model": recipe.base_model,
            "params": params}


def training_run_create(*, user, name: str, train_snapshot: DatasetSnapshot, recipe: Recipe, target: ComputeTarget,
                        val_snapshot: DatasetSnapshot | None = None, launch: bool = True, eval_every: int = 0,
                        eval_benchmark: str = "", eval_options: dict | None = None) -> TrainingRun:
    """Make the run (and, with `launch`, queue its first attempt). Raises TrainingInputError naming
    the field, PermissionDenied without the trainer role.

    `eval_every` N > 0: each checkpoint whose step is a multiple of N is evaluated on
    `eval_benchmark` with `eval_options` (n_samples, temperature, top_p, max_tokens, concurrency,
    date_from, date_to), checked now as an evaluation would check them."""
    _require_trainer(user)
    if not target.is_enabled:
        raise TrainingInputError("target", f"compute target {target.name} is disabled")
    if train_snapshot.problem_count == 0:
        raise TrainingInputError("train_snapshot", "the snapshot has no problems")
    config = recipe_config(recipe)
    schedule = {"every": 0, "benchmark": "", "options": {}}
    if eval_every:
        # Lazy: evaluations builds on training_jobs; the schedule is checked by its rules.
        from evaluations.services import EvalInputError, eval_schedule_normalize

        try:
            schedule = eval_schedule_normalize(every=eval_every, benchmark_name=eval_benchmark or "",
                                               options=eval_options)
        except EvalInputError as exc:
            raise TrainingInputError(exc.field, exc.message) from None
    with transaction.atomic():
        run = TrainingRun.objects.create(
            name=(name or f"{recipe.framework}-{recipe.algorithm} on {train_snapshot}")[:200],
            train_snapshot=train_snapshot, val_snapshot=val_snapshot, recipe=recipe, target=target,
            config=config, total=config["params"]["total_steps"], created_by=user,
            eval_every=schedule["every"], eval_benchmark=schedule["benchmark"], eval_options=schedule["options"],
        )
        audit_event_record(actor=user, action="training_run_create", target=run,
                           after={"recipe": recipe.pk, "target": target.name, "snapshot": train_snapshot.pk,
                                  "config": config, "eval_schedule": schedule})
        if launch:
            _queue_attempt(run, actor=user, kind=EventKind.STATUS, message="launched")
    return run


def training_run_launch(*, run: TrainingRun, user) -> TrainingRun:
    """A draft run goes to the queue."""
    _require_trainer(user)
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if run.status != S.DRAFT:
            raise TransitionError(run, S.QUEUED)
        audit_event_record(actor=user, action="training_run_launch", target=run)
        _queue_attempt(run, actor=user, kind=EventKind.STATUS, message="launched")
    return run


def _queue_attempt(run: TrainingRun, *, actor, kind: str, message: str, resume_from: str = "") -> RunAttempt:
    number = (run.attempts.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    # The key names the job on the backend; a random suffix keeps two installations (or a reset
    # database) sharing one cluster from finding each other's jobs.
    key = f"mc-{run.pk}-a{number}-{secrets.token_hex(3)}"
    attempt = RunAttempt.objects.create(run=run, number=number, key=key, resume_from=resume_from)
    run.cancel_requested = False
    run.save(update_fields=["cancel_requested"])
    training_run_transition(run, S.QUEUED, attempt=attempt, actor=actor, kind=kind, message=message)
    from training_jobs.tasks import submit_attempt_task

    transaction.on_commit(lambda: submit_attempt_task.delay(attempt.pk))
    return attempt


def training_run_cancel(*, run: TrainingRun, user) -> TrainingRun:
    """Not yet on a backend: cancelled at once. On a backend: the request is recorded and the
    backend is told after commit; the poller sees the job end and records `cancelled`."""
    _require_trainer(user)
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if run.is_finished:
            raise TrainingInputError("status", f"run {run.pk} has already finished ({run.status})")
        audit_event_record(actor=user, action="training_run_cancel", target=run, before={"status": run.status})
        attempt = run.current_attempt
        if run.status in (S.DRAFT, S.QUEUED) or (attempt is not None and not attempt.external_id
                                                 and run.status != S.SUBMITTING):
            training_run_transition(run, S.CANCELLED, attempt=attempt, actor=user, message="cancelled before submission")
            return run
        run.cancel_requested = True
        run.save(update_fields=["cancel_requested"])
        TrainingEvent.objects.create(run=run, attempt=attempt, kind=EventKind.CANCEL_REQUEST, actor=user,
                                     message="cancel requested")
        if attempt is not None and attempt.external_id:
            from training_jobs.tasks import cancel_attempt_task

            attempt_id = attempt.pk
            transaction.on_commit(lambda: cancel_attempt_task.delay(attempt_id))
    return run


def training_run_retry(*, run: TrainingRun, user) -> RunAttempt:
    """A new attempt of a failed, cancelled or lost run, resuming from its last checkpoint."""
    _require_trainer(user)
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if S.QUEUED not in TRANSITIONS[run.status]:
            raise TrainingInputError("status", f"only failed, cancelled or lost runs can be retried (this one is {run.status})")
        last = run.checkpoints.order_by("-step").first()
        audit_event_record(actor=user, action="training_run_retry", target=run,
                           before={"status": run.status}, after={"resume_from": last.path if last else ""})
        return _queue_attempt(run, actor=user, kind=EventKind.RETRY, message="retry",
                              resume_from=last.path if last else "")
