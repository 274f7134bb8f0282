"""From a queued attempt to a job on a backend, and back: submit, poll, cancel.

The submit is idempotent at two levels: a run past `submitting` is left alone, and the backend
call itself carries the attempt's key (a redelivered task after a crash between the backend's
answer and our commit finds the job the first call launched). The poll reads the backend's
state, the attempt's metrics file by byte offset, the log from its cursor and the checkpoints,
and applies the deadlines (pending too long → lost; optional metrics staleness → lost).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from curation.exports import export_options_normalize
from curation.models import DatasetSnapshot, Export, RunStatus
from curation.services.exports import export_execute, export_file_path
from training_jobs import metrics as metrics_io
from training_jobs.executors import BackendStatus, ExecutorError, JobSpec, JobState, executor_for
from training_jobs.models import (
    Checkpoint,
    ComputeTarget,
    EventKind,
    MetricPoint,
    RunAttempt,
    TrainingEvent,
    TrainingRun,
)
from training_jobs.models import TrainingStatus as S
from training_jobs.services.runs import TRANSITIONS, training_run_transition
from training_jobs.specs import LaunchContext, build_command, trl
from training_jobs.specs.params import RecipeParamsError

logger = logging.getLogger(__name__)

LOG_TAIL_CHARS = 20_000
EXPORT_FORMAT = {"verl": "verl", "trl": "trl"}
_STATE_TO_STATUS = {JobState.PENDING: S.PENDING, JobState.RUNNING: S.RUNNING, JobState.SUCCEEDED: S.SUCCEEDED,
                    JobState.FAILED: S.FAILED, JobState.CANCELLED: S.CANCELLED, JobState.LOST: S.LOST}


def target_executor(target: ComputeTarget):
    options = {**target.options, "jobs_root": str(jobs_root(target))}
    return executor_for(target.kind, address=target.address, options=options, token_env=target.token_env)


def jobs_root(target: ComputeTarget) -> Path:
    """Where a target's job folders live (for Ray and Slurm: storage the cluster shares)."""
    return Path(target.options.get("jobs_root") or settings.TRAINING_JOBS_DIR)


def training_python(target: ComputeTarget) -> str:
    """The training environment's interpreter: the target's, the setting, the checkout's
    `.venv-train`, or this interpreter as a last resort."""
    if target.options.get("python"):
        return target.options["python"]
    if settings.TRAINING_PYTHON:
        return settings.TRAINING_PYTHON
    local = Path(settings.BASE_DIR) / ".venv-train" / "bin" / "python"
    return str(local) if local.exists() else sys.executable


def target_health_check(target: ComputeTarget) -> dict:
    health = target_executor(target).health()
    ComputeTarget.objects.filter(pk=target.pk).update(last_health=health, last_health_at=timezone.now())
    target.last_health = health
    return health


# --- exports the job reads ------------------------------------------------------------------------


def _validation_options(fmt: str, snapshot: DatasetSnapshot) -> dict:
    # verl routes validation metrics by data_source: one source per difficulty bucket.
    return {"data_source": f"{snapshot.name}/{{bucket}}"} if fmt == "verl" else {}


def export_ensure(snapshot: DatasetSnapshot, fmt: str, options: dict | None = None) -> Export:
    """A finished export of `snapshot` in `fmt` with `options`: an existing one (exports are
    byte-identical on re-export), or one written now on this worker."""
    normalized = export_options_normalize(fmt, options or {})
    for export in Export.objects.filter(snapshot=snapshot, format=fmt, status=RunStatus.SUCCEEDED).order_by("-pk"):
        if export.options == normalized and export_file_path(export) is not None:
            return export
    export = Export.objects.create(snapshot=snapshot, format=fmt, options=normalized, total=snapshot.problem_count)
    return export_execute(export.pk)


def _stage_file(export: Export, data_dir: Path, name: str) -> str:
    """Copy the export beside the run's job folders: the cluster needs only that shared folder."""
    source = export_file_path(export)
    if source is None:
        raise ExecutorError(f"export {export.pk} failed: {export.message}")
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / f"{name}.{source.suffix.lstrip('.')}"
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    return str(target)


# --- the command -----------------------------------------------------------------------------------


def launch_context(run: TrainingRun, attempt: RunAttempt, *, train_file: str, val_file: str) -> LaunchContext:
    root = jobs_root(run.target)
    job_dir = root / attempt.key
    env = {"OMP_NUM_THREADS": "1"} if run.config["base_model"].startswith("tiny-random:") else {}
    if settings.JUDGE_ALLOW_UNSANDBOXED:
        env["JUDGE_ALLOW_UNSANDBOXED"] = "1"
    env.update({str(k): str(v) for k, v in (run.target.options.get("env") or {}).items()})
    return LaunchContext(
        framework=run.config["framework"], algorithm=run.config["algorithm"], base_model=run.config["base_model"],
        params=run.config["params"], train_file=train_file, val_file=val_file,
        output_dir=str(root / f"run-{run.pk}" / "checkpoints"), metrics_path=str(job_dir / "metrics.jsonl"),
        repo_root=str(run.target.options.get("workdir") or settings.BASE_DIR), python=training_python(run.target),
        resume_from=attempt.resume_from, run_label=f"run-{run.pk}", extra_env=env,
    )


def job_spec(run: TrainingRun, attempt: RunAttempt, ctx: LaunchContext) -> JobSpec:
    argv, env = build_command(ctx)
    p = ctx.params
    return JobSpec(
        key=attempt.key, argv=tuple(argv), env=env, workdir=ctx.repo_root,
        job_dir=os.path.dirname(ctx.metrics_path),
        cpus=int(run.target.options.get("cpus") or 1),
        gpus=int(p["n_gpus_per_node"]) if run.target.kind != "local" else 0,
        time_limit_min=int(run.target.options.get("time_limit_min") or 0),
        labels={"microcoder_run": str(run.pk), "attempt": str(attempt.number)},
    )


def command_preview(run: TrainingRun) -> dict:
    """What the next attempt will run, with placeholder paths for files not yet written."""
    number = run.attempts.count() + 1 if run.pk else 1
    attempt = RunAttempt(run=run, number=number, key=f"mc-{run.pk or 'new'}-a{number}-xxxxxx")
    fmt = EXPORT_FORMAT[run.config["framework"]]
    root = jobs_root(run.target)
    data_dir = root / f"run-{run.pk or 'new'}" / "data"
    ctx = launch_context(run, attempt, train_file=str(data_dir / "train.parquet"),
                         val_file=str(data_dir / "validation.parquet") if run.val_snapshot_id else "")
    spec = job_spec(run, attempt, ctx)
    out = {"argv": list(spec.argv), "env": spec.env, "workdir": spec.workdir, "export_format": fmt}
    if run.config["framework"] == "trl":
        out["config"] = trl.config(ctx)
    return out


# --- submit ----------------------------------------------------------------------------------------


def training_attempt_submit(attempt_id: int) -> None:
    with transaction.atomic():
        attempt = RunAttempt.objects.select_related("run").get(pk=attempt_id)
        run = TrainingRun.objects.select_for_update().select_related("target").get(pk=attempt.run_id)
        if attempt.external_id or run.status not in (S.QUEUED, S.SUBMITTING) or run.current_attempt != attempt:
            return  # submitted already, cancelled, or superseded by a newer attempt
        training_run_transition(run, S.SUBMITTING, attempt=attempt, message=f"attempt {attempt.number}")
    try:
        fmt = EXPORT_FORMAT[run.config["framework"]]
        data_dir = jobs_root(run.target) / f"run-{run.pk}" / "data"
        train_export = export_ensure(run.train_snapshot, fmt)
        train_file = _stage_file(train_export, data_dir, "train")
        val_export, val_file = None, ""
        if run.val_snapshot_id:
            val_export = export_ensure(run.val_snapshot, fmt, _validation_options(fmt, run.val_snapshot))
            val_file = _stage_file(val_export, data_dir, "validation")
        ctx = launch_context(run, attempt, train_file=train_file, val_file=val_file)
        if ctx.framework == "trl":
            trl.write_config(ctx)
        spec = job_spec(run, attempt, ctx)
        external_id = target_executor(run.target).submit(spec)
    except (ExecutorError, RecipeParamsError, OSError, ValueError) as exc:
        logger.warning("submit of %s failed: %s", attempt.key, exc)
        with transaction.atomic():
            run = TrainingRun.objects.select_for_update().get(pk=run.pk)
            RunAttempt.objects.filter(pk=attempt.pk).update(message=str(exc)[:2000])
            training_run_transition(run, S.FAILED, attempt=attempt, kind=EventKind.SUBMIT_ERROR,
                                    message=f"submit failed: {exc}")
        return
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        RunAttempt.objects.filter(pk=attempt.pk).update(
            external_id=external_id, submitted_at=timezone.now(), command=list(spec.argv), job_dir=spec.job_dir,
            metrics_path=ctx.metrics_path)
        run.train_export, run.val_export, run.output_dir = train_export, val_export, ctx.output_dir
        run.save(update_fields=["train_export", "val_export", "output_dir"])
        if run.status == S.SUBMITTING:
            training_run_transition(run, S.PENDING, attempt=attempt, message=f"submitted as {external_id}")
        cancel = run.cancel_requested
    if cancel:  # cancelled while we were submitting
        training_attempt_cancel(attempt.pk)


# --- cancel ----------------------------------------------------------------------------------------


def training_attempt_cancel(attempt_id: int) -> None:
    attempt = RunAttempt.objects.select_related("run__target").get(pk=attempt_id)
    if not attempt.external_id:
        return
    try:
        target_executor(attempt.run.target).cancel(attempt.external_id)
    except ExecutorError as exc:
        TrainingEvent.objects.create(run=attempt.run, attempt=attempt, kind=EventKind.BACKEND,
                                     message=f"cancel failed, will retry on the next poll: {exc}")
        return
    training_attempt_poll(attempt_id)


# --- poll ------------------------------------------------------------------------------------------


def active_attempt_ids() -> list[int]:
    return list(
        RunAttempt.objects.filter(run__status__in=(S.PENDING, S.RUNNING, S.SUBMITTING)).exclude(external_id="")
        .order_by("pk").values_list("pk", flat=True)
    )


def metrics_ingest(run: TrainingRun, attempt: RunAttempt) -> int:
    """New rows of the attempt's metrics file, upserted; the offset moves only past whole lines."""
    if not attempt.metrics_path:
        return 0
    result = metrics_io.read_new(attempt.metrics_path, attempt.metrics_offset, attempt.metrics_inode)
    latest: dict[tuple[str, int], metrics_io.MetricRow] = {}
    for row in result.rows:
        latest[(row.key, row.step)] = row  # the same point twice in one read: the last wins
    if latest:
        MetricPoint.objects.bulk_create(
            [MetricPoint(run=run, attempt=attempt, key=r.key, raw_key=r.raw_key, step=r.step, value=r.value)
             for r in latest.values()],
            update_conflicts=True, unique_fields=["run", "attempt", "key", "step"], update_fields=["value", "raw_key"],
            batch_size=2000,
        )
        top = max(r.step for r in latest.values())
        run.done = max(run.done if not result.restarted else 0, top)
        run.last_metric_at = timezone.now()
        run.save(update_fields=["done", "last_metric_at"])
    attempt.metrics_offset, attempt.metrics_inode = result.offset, result.inode
    attempt.save(update_fields=["metrics_offset", "metrics_inode"])
    return len(latest)


def checkpoints_scan(run: TrainingRun, attempt: RunAttempt) -> None:
    """TRL writes checkpoint-N, verl global_step_N, under the run's output folder."""
    root = Path(run.output_dir) if run.output_dir else None
    if root is None or not root.is_dir():
        return
    known = set(run.checkpoints.values_list("step", flat=True))
    for child in root.iterdir():
        name = child.name
        prefix = "checkpoint-" if name.startswith("checkpoint-") else "global_step_" if name.startswith("global_step_") else ""
        if not prefix or not child.is_dir() or not name[len(prefix):].isdigit():
            continue
        step = int(name[len(prefix):])
        if step in known:
            continue
        size = sum(f.stat().st_size for f in child.rglob("*") if f.is_file())
        checkpoint_record(run, step=step, path=str(child), attempt=attempt, size_bytes=size)


def checkpoint_record(run: TrainingRun, *, step: int, path: str, attempt: RunAttempt | None = None,
                      size_bytes: int = 0) -> tuple[Checkpoint, bool]:
    """Record a checkpoint once; a new one may start a scheduled evaluation (after commit)."""
    checkpoint, created = Checkpoint.objects.get_or_create(
        run=run, step=step, defaults={"attempt": attempt, "path": path, "size_bytes": size_bytes})
    if created and run.eval_every:
        # Imported here: evaluations builds on training_jobs (its runs point at checkpoints), not
        # the other way round; only this hook reaches across.
        from evaluations.services import eval_checkpoint_recorded

        eval_checkpoint_recorded(checkpoint)
    return checkpoint, created


def training_attempt_poll(attempt_id: int) -> str | None:
    """One look at the attempt's job. Returns the run's status after it (None when skipped)."""
    with transaction.atomic():
        attempt = RunAttempt.objects.get(pk=attempt_id)
        run = (TrainingRun.objects.select_for_update(skip_locked=True).select_related("target")
               .filter(pk=attempt.run_id).first())
        if run is None or run.current_attempt != attempt or not attempt.external_id:
            return None
        if run.is_finished:
            return run.status
        executor = target_executor(run.target)
        try:
            backend = executor.status(attempt.external_id, job_dir=attempt.job_dir)
        except ExecutorError as exc:
            logger.warning("poll of %s: %s", attempt.key, exc)
            backend = None
        metrics_ingest(run, attempt)
        checkpoints_scan(run, attempt)
        try:
            text, cursor = executor.logs(attempt.external_id, attempt.log_offset, job_dir=attempt.job_dir)
        except ExecutorError:
            text, cursor = "", attempt.log_offset
        if text:
            attempt.log_tail = (attempt.log_tail + text)[-LOG_TAIL_CHARS:]
            attempt.log_offset = cursor
            attempt.save(update_fields=["log_tail", "log_offset"])
        if backend is None:
            return run.status
        _apply_backend_status(run, attempt, backend)
        to_cancel = run.cancel_requested and not run.is_finished
    if to_cancel:
        try:
            executor.cancel(attempt.external_id)
        except ExecutorError as exc:
            logger.warning("cancel of %s: %s", attempt.key, exc)
    return run.status


def _apply_backend_status(run: TrainingRun, attempt: RunAttempt, backend: BackendStatus) -> None:
    now = timezone.now()
    fields = {"backend_status": backend.state}
    if backend.exit_code is not None:
        fields["exit_code"] = backend.exit_code
    if backend.message:
        fields["message"] = backend.message[-2000:]
    target = _STATE_TO_STATUS[backend.state]
    if target == S.RUNNING and attempt.started_at is None:
        fields["started_at"] = now
    if target in (S.SUCCEEDED, S.FAILED, S.CANCELLED, S.LOST) and attempt.ended_at is None:
        fields["ended_at"] = now
    RunAttempt.objects.filter(pk=attempt.pk).update(**fields)
    if target == S.PENDING:
        waited = (now - run.status_changed_at).total_seconds()
        if run.status == S.PENDING and waited > settings.TRAINING_PENDING_TIMEOUT_S:
            _lose(run, attempt, f"pending for {waited:.0f} s (limit {settings.TRAINING_PENDING_TIMEOUT_S:g} s)")
            return
        _advance(run, S.PENDING, attempt)
        return
    if target == S.RUNNING:
        _advance(run, S.RUNNING, attempt)
        stale_after = settings.TRAINING_STALE_AFTER_S
        last = run.last_metric_at or run.status_changed_at
        if stale_after and (now - last) > dt.timedelta(seconds=stale_after):
            _lose(run, attempt, f"no metrics for {(now - last).total_seconds():.0f} s")
        return
    if target == S.FAILED and run.cancel_requested:
        target = S.CANCELLED  # a cancelled job may end with a signal's exit code
    message = backend.message or ("" if backend.exit_code in (None, 0) else f"exit code {backend.exit_code}")
    if target == S.SUCCEEDED and run.total and run.done < run.total:
        run.done = run.total
        run.save(update_fields=["done"])
    training_run_transition(run, target, attempt=attempt, message=message[-1000:])


def _advance(run: TrainingRun, to: str, attempt: RunAttempt) -> None:
    """Forward moves only: a backend that says "pending" again (a Slurm requeue) changes nothing."""
    if to in TRANSITIONS[run.status]:
        training_run_transition(run, to, attempt=attempt)


def _lose(run: TrainingRun, attempt: RunAttempt, why: str) -> None:
    """Give up on a job the backend keeps pending or that went silent; stop it so it cannot come back."""
    try:
        target_executor(run.target).cancel(attempt.external_id)
    except ExecutorError as exc:
        why += f"; stopping it failed: {exc}"
    training_run_transition(run, S.LOST, attempt=attempt, message=why)
