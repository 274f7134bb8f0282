"""Evaluation runs: writes. One function per user action, one transaction and one audit row each;
the task and the webhook after commit.

    run = eval_run_create(user=u, model_name="m", base_url="http://...", benchmark_name="lcb", ...)
    eval_run_execute(run.pk)        # what the Celery task calls: generate, judge, summarise
    eval_import_lcb(user=u, data=json_text, model_name="m")   # lcb_runner graded output → a run

Generation and judging run on a worker thread (`evaluations.pipeline`, no Django); this thread
owns the database and writes what the pipeline reports in batches, so progress is visible while
the run goes on and a killed worker leaves every finished sample in place for the rerun.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum

from curation.exports.livecodebench import lcb_difficulty
from curation.judge import mode as judge_modes
from curation.llm.client import LLMClient
from curation.judge.spec import JudgeSpec
from curation.models import Problem, RunStatus
from curation.selectors import problem_judge_spec
from curation.services.audit import audit_event_record
from curation.services.runs import run_finish, run_judge_mode_add, run_progress, run_start
from curation.services.verification import sandbox_config  # the one sandbox configuration
from training_jobs.executors import JobState
from training_jobs.services.serving import (
    ServingError,
    serving_job_spec,
    serving_log_tail,
    serving_look,
    serving_stop,
    serving_submit,
)

from . import core, pipeline
from .models import EvalProblem, EvalRun, EvalSample, EvalSource, SampleStatus
from .prompts import PromptError, messages_for, prompts_normalize

logger = logging.getLogger(__name__)

MAX_SAMPLES = 200
MAX_CONCURRENCY = 256
WRITE_EVERY_S = 0.5


class EvalInputError(ValueError):
    """A bad request; `field` names what to fix."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


# --- what a problem is judged with --------------------------------------------------------------
def problem_groups(problem: Problem) -> dict[str, str]:
    """The breakdown groups of a problem: the benchmark's label (mapped to easy/medium/hard the
    way our LiveCodeBench export maps it), our bucket, platform and contest month."""
    label, origin = lcb_difficulty({"difficulty_label": problem.difficulty_label,
                                    "difficulty_rating": problem.difficulty_rating})
    return {
        "label": label if origin in ("label", "rating", "letter") else "",
        "bucket": problem.bucket or "",
        "platform": (problem.platform or "").lower(),
        "month": problem.contest_date.strftime("%Y-%m") if problem.contest_date else "",
    }


def benchmark_problems(*, benchmark_name: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None):
    """Problems marked as a benchmark (optionally one benchmark), in a contest-date window."""
    qs = Problem.objects.filter(is_benchmark=True)
    if benchmark_name:
        qs = qs.filter(benchmark_name=benchmark_name)
    if date_from:
        qs = qs.filter(contest_date__gte=date_from)
    if date_to:
        qs = qs.filter(contest_date__lte=date_to)
    return qs.order_by("id")


# --- create -------------------------------------------------------------------------------------
def checkpoint_servable(checkpoint) -> None:
    """A checkpoint can be the model when its training run's compute target is usable: enabled,
    of a kind the executors know, and (for a local target) the folder is on this machine."""
    target = checkpoint.run.target
    if not target.is_enabled:
        raise EvalInputError("checkpoint", f"the compute target {target.name} of training run "
                                           f"#{checkpoint.run_id} is disabled: the checkpoint cannot be served")
    if target.kind not in ("local", "ray", "slurm"):
        raise EvalInputError("checkpoint", f"compute target {target.name} has an unknown kind {target.kind!r}")
    if target.kind == "local" and not Path(checkpoint.path).is_dir():
        raise EvalInputError("checkpoint", f"the checkpoint folder {checkpoint.path} does not exist on this machine")


def _number(value, field_name: str, lo: float, hi: float, *, integer: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        raise EvalInputError(field_name, f"expected {'an integer' if integer else 'a number'} in [{lo:g}, {hi:g}]")
    if not lo <= value <= hi:
        raise EvalInputError(field_name, f"must be in [{lo:g}, {hi:g}], got {value!r}")
    return int(value) if integer else float(value)


def eval_run_create(*, user, model_name: str, base_url: str, benchmark_name: str = "", date_from=None, date_to=None,
                    n_samples: int = 1, temperature: float = 0.2, top_p: float = 0.95, max_tokens: int = 2048,
                    concurrency: int = 16, request_timeout_s: float = 120.0, prompts: dict | None = None,
                    name: str = "", enqueue: bool = True, checkpoint=None, scheduled: bool = False) -> EvalRun:
    """Validate, make the pending run (one transaction, one audit row); the task runs after commit
    (`enqueue=False`: the caller runs `eval_run_execute` itself, as `evaluate --sync` does).

    The model is an endpoint (`base_url` + `model_name`), or a training run's `checkpoint` with no
    endpoint: then a serving job on that run's compute target serves it while the run executes
    (`model_name` defaults to the checkpoint folder, the name `transformers serve` answers to)."""
    serve = checkpoint is not None and not (base_url or "").strip()
    if serve:
        checkpoint_servable(checkpoint)
        model_name = (model_name or "").strip() or checkpoint.path
        base_url = ""
        if not name:
            name = f"{checkpoint.run.name} @ step {checkpoint.step}"
    if not serve and not (base_url or "").startswith(("http://", "https://")):
        raise EvalInputError("base_url", "expected an http(s) URL of an OpenAI-compatible endpoint (…/v1), "
                                         "or choose a training checkpoint to serve")
    if not (model_name or "").strip():
        raise EvalInputError("model_name", "required")
    n_samples = _number(n_samples, "n_samples", 1, MAX_SAMPLES, integer=True)
    temperature = _number(temperature, "temperature", 0, 2)
    top_p = _number(top_p, "top_p", 0.01, 1)
    max_tokens = _number(max_tokens, "max_tokens", 1, 1_000_000, integer=True)
    concurrency = _number(concurrency, "concurrency", 1, MAX_CONCURRENCY, integer=True)
    request_timeout_s = _number(request_timeout_s, "request_timeout_s", 1, 3600)
    if date_from and date_to and date_from > date_to:
        raise EvalInputError("date_to", "the window ends before it starts")
    try:
        prompts = prompts_normalize(prompts)
    except PromptError as exc:
        raise EvalInputError(exc.field, exc.message) from None
    count = benchmark_problems(benchmark_name=benchmark_name, date_from=date_from, date_to=date_to).count()
    if count == 0:
        raise EvalInputError("benchmark_name", f"no benchmark problems{f' named {benchmark_name!r}' if benchmark_name else ''} "
                                               "in that contest-date window")
    with transaction.atomic():
        run = EvalRun.objects.create(
            name=name.strip()[:200], base_url=base_url.rstrip("/"), model_name=model_name.strip(),
            benchmark_name=benchmark_name, date_from=date_from, date_to=date_to, n_samples=n_samples,
            temperature=temperature, top_p=top_p, max_tokens=max_tokens, concurrency=concurrency,
            request_timeout_s=request_timeout_s, prompts=prompts, total=count * n_samples, checkpoint=checkpoint,
            serve_checkpoint=serve, scheduled=scheduled,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        audit_event_record(actor=user, action="eval_run_create", target=run, after={
            "model": run.model_name, "base_url": run.base_url, "benchmark": benchmark_name, "problems": count,
            "date_from": str(date_from or ""), "date_to": str(date_to or ""), "n_samples": n_samples,
            "checkpoint": getattr(checkpoint, "pk", None), "serve_checkpoint": serve, "scheduled": scheduled,
        })
        if enqueue:
            eval_run_enqueue(run)
    return run


def eval_run_enqueue(run: EvalRun) -> None:
    from .tasks import eval_run_task

    # The llm queue: most of a run's time is waiting on the endpoint; judging uses a bounded pool.
    transaction.on_commit(lambda: eval_run_task.apply_async(args=[run.pk], queue="llm"))


def eval_run_resume(*, run: EvalRun, user) -> EvalRun:
    """Run again what is missing (failed answers, unjudged samples); finished samples are kept."""
    with transaction.atomic():
        EvalSample.objects.filter(run=run, status=SampleStatus.FAILED).update(status=SampleStatus.PENDING, error="")
        EvalRun.objects.filter(pk=run.pk).update(status=RunStatus.PENDING, finished_at=None, errors=[],
                                                 cancel_requested=False)
        audit_event_record(actor=user, action="eval_run_resume", target=run)
        eval_run_enqueue(run)
    run.refresh_from_db()
    return run


# --- execute ------------------------------------------------------------------------------------
def _materialize(run: EvalRun) -> None:
    """Create the problem and sample rows once (a redelivered task finds them and goes on)."""
    if run.problems.exists():
        return
    problems = list(benchmark_problems(benchmark_name=run.benchmark_name, date_from=run.date_from, date_to=run.date_to))
    # The client's own key: (model, messages, sample index, sampling params).
    sampling = {"temperature": run.temperature, "top_p": run.top_p, "max_tokens": run.max_tokens}
    with transaction.atomic():
        eps = EvalProblem.objects.bulk_create([
            EvalProblem(run=run, problem=p, question_id=p.external_id, title=p.title[:500], **problem_groups(p))
            for p in problems
        ])
        samples = []
        for ep, p in zip(eps, problems):
            messages = messages_for(run.prompts, statement=p.statement, io_format=p.io_format, starter_code=p.starter_code)
            for i in range(run.n_samples):
                samples.append(EvalSample(run=run, eval_problem=ep, index=i,
                                          cache_key=pipeline.sample_cache_key(run.model_name, messages, i, sampling)))
        EvalSample.objects.bulk_create(samples, batch_size=1000)
        EvalRun.objects.filter(pk=run.pk).update(problem_count=len(eps), total=len(samples))
    run.problem_count, run.total = len(eps), len(samples)


def _reuse_cached(run: EvalRun) -> int:
    """Answers already received for the same cache key (by this run before a restart, or by an
    identical earlier run) are reused: only the judging is redone."""
    pending = list(EvalSample.objects.filter(run=run, status=SampleStatus.PENDING).values_list("pk", "cache_key"))
    if not pending:
        return 0
    keys = {k for _pk, k in pending}
    found: dict[str, tuple[str, int, int]] = {}
    for key, answer, p_tok, c_tok in (EvalSample.objects.filter(cache_key__in=keys)
                                      .exclude(run=run).filter(status__in=(SampleStatus.GENERATED, SampleStatus.JUDGED))
                                      .values_list("cache_key", "answer", "prompt_tokens", "completion_tokens")):
        found.setdefault(key, (answer, p_tok, c_tok))
    updates = [(pk, {"answer": found[key][0], "status": SampleStatus.GENERATED}) for pk, key in pending if key in found]
    with transaction.atomic():
        _update_grouped(updates)
    return len(updates)


def eval_llm_client(run: EvalRun) -> LLMClient:
    """The project's LLM client for this run's endpoint and sampling parameters."""
    return LLMClient(pipeline.llm_config({
        "base_url": run.base_url, "model": run.model_name, "api_key": settings.LLM_API_KEY,
        "temperature": run.temperature, "max_tokens": run.max_tokens, "timeout": run.request_timeout_s,
        "concurrency": run.concurrency,
    }))


def eval_run_execute(run_id: int, *, client=None) -> EvalRun:
    """Generate the missing answers, judge every unjudged sample, summarise. Idempotent.
    A checkpoint run first starts its serving job and waits for it; the job is stopped when the
    run ends, whatever the way (success, failure, cancel, a crash of this function)."""
    run = EvalRun.objects.get(pk=run_id)
    if run.is_finished:
        return run
    if not run.serve_checkpoint:
        return _execute(run, client)
    # Running from now on: waiting for the server (queueing on the cluster, loading the model) is
    # part of the run, and the page shows the serving job's state meanwhile.
    run_start(run, total=run.total)
    try:
        try:
            eval_serving_ready(run)
        except ServingError as exc:
            _materialize(run)
            return eval_run_finalize(run, errors=[{"record": "", "field": "checkpoint", "message": str(exc)}],
                                     failed=True, message=f"serving the checkpoint failed: {exc}")
        return _execute(run, client)
    finally:
        eval_serving_stop(run)


def _execute(run: EvalRun, client) -> EvalRun:
    _materialize(run)
    cached = _reuse_cached(run)
    run_start(run, total=run.total)
    problems = {ep.pk: ep for ep in run.problems.select_related("problem")}
    specs: dict[int, JudgeSpec] = {}
    errors: list[dict] = []
    for ep in problems.values():
        if ep.problem is None:
            continue
        try:
            # The one spec verification and the training reward judge this problem with.
            specs[ep.pk] = problem_judge_spec(ep.problem)
        except ValueError as exc:
            errors.append({"record": ep.question_id, "field": getattr(exc, "field", "judge_spec"), "message": str(exc)})
    jobs = []
    rows = (EvalSample.objects.filter(run=run).exclude(status__in=(SampleStatus.JUDGED, SampleStatus.FAILED))
            .values_list("pk", "eval_problem_id", "index", "answer", "status"))
    messages_cache: dict[int, list[dict]] = {}
    for pk, ep_id, _index, answer, status in rows:
        if ep_id not in specs:
            continue
        if ep_id not in messages_cache:
            p = problems[ep_id].problem
            messages_cache[ep_id] = messages_for(run.prompts, statement=p.statement, io_format=p.io_format,
                                                 starter_code=p.starter_code)
        jobs.append(pipeline.SampleJob(pk, ep_id, messages_cache[ep_id],
                                       answer if status == SampleStatus.GENERATED else None))
    done_before = EvalSample.objects.filter(run=run, status__in=(SampleStatus.JUDGED, SampleStatus.FAILED)).count()
    run_progress(run, done=done_before)

    events: queue.Queue = queue.Queue()
    crash: list[BaseException] = []
    stop = threading.Event()

    def work() -> None:
        try:
            pipeline.run_pipeline(jobs, specs, client or eval_llm_client(run), emit=events.put, top_p=run.top_p,
                                  judge_workers=settings.VERIFY_PARALLELISM,
                                  sandbox_config=sandbox_config(),
                                  should_stop=stop.is_set)
        except BaseException as exc:  # noqa: BLE001 - reported on the run
            crash.append(exc)
        finally:
            events.put(None)

    worker = threading.Thread(target=work, name=f"eval-run-{run.pk}", daemon=True)
    worker.start()
    done = done_before
    finished = False
    while not finished:
        batch = []
        deadline = time.monotonic() + WRITE_EVERY_S
        while time.monotonic() < deadline:
            try:
                event = events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event is None:
                finished = True
                break
            batch.append(event)
        done += _write_events(batch, run)
        if batch:
            run_progress(run, done=done)
        # A cancel is a flag on the row (set by eval_run_cancel from the web process).
        if not stop.is_set() and EvalRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
            stop.set()
    worker.join()
    if crash:
        logger.error("evaluation %s crashed: %r", run.pk, crash[0])
        errors.append({"record": "", "field": "", "message": f"{type(crash[0]).__name__}: {crash[0]}"})
    for pk, ep_id, err in (EvalSample.objects.filter(run=run, status=SampleStatus.FAILED)
                           .values_list("pk", "eval_problem__question_id", "error")[:100]):
        errors.append({"record": f"{ep_id} sample {pk}", "field": "answer", "message": err})
    if stop.is_set():
        return eval_run_finalize(run, errors=errors, cached=cached, failed=True,
                                 message=f"cancelled after {done} of {run.total} samples")
    return eval_run_finalize(run, errors=errors, cached=cached, failed=bool(crash))


def _update_grouped(rows: list[tuple[int, dict]]) -> None:
    """One UPDATE per distinct set of values: samples judged from the same (memoised) program
    share their verdicts and go in one statement; distinct ones cost one small UPDATE each —
    far cheaper than bulk_update's CASE expressions over every row and field."""
    groups: dict[str, tuple[dict, list[int]]] = {}
    for pk, fields in rows:
        key = json.dumps(fields, sort_keys=True, default=str)
        groups.setdefault(key, (fields, []))[1].append(pk)
    for fields, pks in groups.values():
        for i in range(0, len(pks), 1000):
            EvalSample.objects.filter(pk__in=pks[i:i + 1000]).update(**fields)


def _write_events(batch: list, run: EvalRun | None = None) -> int:
    """Write a batch of pipeline events in one transaction; returns how many samples reached a
    final state. An answer and its verdicts in the same batch are written together, and the
    run's judge mode becomes the weakest of its own and the batch's."""
    if not batch:
        return 0
    rows: dict[int, dict] = {}
    modes: list[dict] = []
    finals = 0
    for event in batch:
        fields = rows.setdefault(event.sample_id, {})
        if isinstance(event, pipeline.Generated):
            fields.update(answer=event.answer, prompt_tokens=event.prompt_tokens,
                          completion_tokens=event.completion_tokens)
            fields.setdefault("status", SampleStatus.GENERATED)
        elif isinstance(event, pipeline.Failed):
            fields.update(status=SampleStatus.FAILED, error=event.error)
            finals += 1
        elif isinstance(event, pipeline.Judged):
            fields.update(status=SampleStatus.JUDGED, code=event.code, language=event.language,
                          fence_language=event.fence_language, verdict=event.verdict, passed=event.passed,
                          tests=event.tests, error=event.error)
            modes.append(event.judge_mode)
            finals += 1
    with transaction.atomic():
        _update_grouped(list(rows.items()))
        if run is not None and modes:
            run_judge_mode_add(run, judge_modes.weakest(*modes))
    return finals


def problem_results(run: EvalRun) -> list[core.ProblemResult]:
    """Per-problem (n, c) and groups of a run, for the core's arithmetic. Problems without a
    single answer are left out (no estimate exists for them)."""
    return [
        core.ProblemResult(ep.question_id, ep.n, ep.c,
                           {"label": ep.label, "bucket": ep.bucket, "platform": ep.platform, "month": ep.month})
        for ep in run.problems.all() if ep.n > 0
    ]


def eval_run_finalize(run: EvalRun, *, errors: list[dict] | None = None, cached: int = 0, failed: bool = False,
                      message: str = "") -> EvalRun:
    """Count n and c per problem (judged samples only: an answer the endpoint never gave is not the
    model's failure), compute the summary, finish the row, tell subscribers after commit."""
    with transaction.atomic():
        counts = (EvalSample.objects.filter(run=run, status=SampleStatus.JUDGED).values("eval_problem_id")
                  .annotate(n=Count("id"), c=Count("id", filter=Q(passed=True))))
        by_ep = {row["eval_problem_id"]: row for row in counts}
        eps = list(run.problems.all())
        for ep in eps:
            ep.n = by_ep.get(ep.pk, {}).get("n", 0)
            ep.c = by_ep.get(ep.pk, {}).get("c", 0)
        EvalProblem.objects.bulk_update(eps, ["n", "c"], batch_size=1000)
        tokens = EvalSample.objects.filter(run=run).aggregate(p=Sum("prompt_tokens"), c=Sum("completion_tokens"))
        results = problem_results(run)
        run.summary = core.summarize(results) if results else {"ks": [], "overall": {}, "by": {}}
        run.samples_correct = sum(ep.c for ep in eps)
        run.samples_failed = EvalSample.objects.filter(run=run, status=SampleStatus.FAILED).count()
        run.prompt_tokens = tokens["p"] or 0
        run.completion_tokens = tokens["c"] or 0
        run.cached_samples = run.cached_samples + cached
        run.errors = list(errors or [])
        run.done = EvalSample.objects.filter(run=run, status__in=(SampleStatus.JUDGED, SampleStatus.FAILED)).count()
        overall = run.summary.get("overall", {}).get("pass@1", {}).get("value")
        message = message or (f"{len(results)} problems, {run.done} samples, pass@1 {overall:.3f}"
                              if overall is not None else f"{run.done} samples, none judged")
        run_finish(run, failed=failed or (not results and bool(run.total)), message=message)
        payload = eval_event_payload(run)
        transaction.on_commit(lambda: _emit("eval_run.finished", payload))
    return run


def _emit(event: str, payload: dict) -> None:
    from curation.services.webhooks import webhook_event_emit

    webhook_event_emit(event, payload)


def eval_event_payload(run: EvalRun) -> dict[str, Any]:
    overall = run.summary.get("overall", {}) if run.summary else {}
    return {
        "id": run.pk, "name": run.name, "model": run.model_name, "benchmark": run.benchmark_name,
        "status": run.status, "problems": run.problem_count, "samples": run.done,
        "pass_at_k": {k: v["value"] for k, v in overall.items() if k.startswith("pass@")},
        "message": run.message,
    }


# --- a checkpoint as the model: its serving job ------------------------------------------------
def _serve_update(run: EvalRun, **fields) -> None:
    for key, value in fields.items():
        setattr(run, key, value)
    EvalRun.objects.filter(pk=run.pk).update(**fields)


def eval_serving_ready(run: EvalRun, *, timeout_s: float | None = None, poll_s: float = 1.0) -> str:
    """Submit the run's serving job (or find the one a previous delivery of the task submitted)
    and wait until it answers /health; the endpoint becomes the run's `base_url`. Raises
    ServingError when the job ends, cannot be submitted, or is not healthy within the timeout."""
    checkpoint = run.checkpoint
    if checkpoint is None:
        raise ServingError("the checkpoint was deleted")
    target = checkpoint.run.target
    if not run.serve_key or run.serve_state in JobState.TERMINAL or run.serve_state == "stopped":
        # The key is committed before the submit: a redelivered task submits the same key again,
        # which the executors answer with the job the first submit launched.
        _serve_update(run, serve_key=f"mc-eval-{run.pk}-{secrets.token_hex(3)}", serve_external_id="",
                      serve_state="", serve_message="", serve_log_tail="")
    spec = serving_job_spec(target, checkpoint.path, run.serve_key)
    external_id = serving_submit(target, spec)
    _serve_update(run, serve_external_id=external_id, serve_job_dir=spec.job_dir, serve_state=JobState.PENDING,
                  serve_message=f"submitted to {target.name} ({target.kind})")
    timeout_s = settings.EVAL_SERVE_TIMEOUT_S if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    while True:
        look = serving_look(target, external_id, spec.job_dir)
        if look.state != run.serve_state or look.message != run.serve_message:
            _serve_update(run, serve_state=look.state, serve_message=look.message[:2000])
        if look.healthy:
            # The server is pinned to the folder it serves (verl: actor/huggingface inside the
            # checkpoint) and refuses any other model name.
            _serve_update(run, base_url=look.base_url, model_name=look.model or run.model_name)
            return look.base_url
        if look.state in JobState.TERMINAL:
            tail = serving_log_tail(target, external_id, spec.job_dir)
            _serve_update(run, serve_log_tail=tail)
            raise ServingError(f"the serving job {external_id} ended ({look.state}: {look.message}) before "
                               f"answering; last log lines: {tail[-600:]}")
        if EvalRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
            raise ServingError("cancelled while the checkpoint was being served")
        if time.monotonic() > deadline:
            tail = serving_log_tail(target, external_id, spec.job_dir)
            _serve_update(run, serve_log_tail=tail)
            raise ServingError(f"the serving job {external_id} did not answer /health within {timeout_s:g} s "
                               f"(job {look.state}: {look.message}); last log lines: {tail[-600:]}")
        time.sleep(poll_s)


def eval_serving_stop(run: EvalRun) -> None:
    """Cancel the serving job of a run (no-op when none was submitted); keep its final state
    and log tail on the row for the page."""
    run.refresh_from_db(fields=["serve_external_id", "serve_job_dir", "serve_state", "checkpoint"])
    if not run.serve_external_id or run.checkpoint is None:
        return
    target = run.checkpoint.run.target
    if run.serve_state in JobState.TERMINAL or run.serve_state == "stopped":
        # It ended on its own (its state says how): nothing to stop, and a cancel now would
        # relabel a crash as a cancel.
        _serve_update(run, serve_log_tail=serving_log_tail(target, run.serve_external_id, run.serve_job_dir))
        return
    state, tail = serving_stop(target, run.serve_external_id, run.serve_job_dir)
    _serve_update(run, serve_state="stopped", serve_log_tail=tail,
                  serve_message=f"stopped when the evaluation ended (backend says {state})")


def eval_serving_sweep() -> int:
    """Stop serving jobs whose evaluation has finished but which were never stopped (the worker
    died between the summary and the stop). Beat runs it; returns how many it stopped."""
    stale = (EvalRun.objects.filter(serve_checkpoint=True, status__in=EvalRun.finished_statuses)
             .exclude(serve_external_id="").exclude(serve_state__in=[*JobState.TERMINAL, "stopped"]))
    count = 0
    for run in stale.select_related("checkpoint__run__target"):
        eval_serving_stop(run)
        count += 1
    return count


def eval_run_cancel(*, run: EvalRun, user) -> EvalRun:
    """Not started: finished at once (failed, "cancelled"). Running: the flag is set; the executing
    task sees it within a write interval, stops sending requests, summarises what was judged and
    stops the serving job."""
    with transaction.atomic():
        run = EvalRun.objects.select_for_update().get(pk=run.pk)
        if run.is_finished:
            raise EvalInputError("status", f"evaluation {run.pk} has already finished ({run.status})")
        audit_event_record(actor=user, action="eval_run_cancel", target=run, before={"status": run.status})
        run.cancel_requested = True
        run.save(update_fields=["cancel_requested"])
        if run.status == RunStatus.PENDING:
            # The queued task finds a finished row and does nothing.
            run_finish(run, failed=True, message="cancelled before it started")
    return run


# --- scheduled evaluations of a training run's checkpoints ---------------------------------------
SCHEDULE_OPTIONS = ("n_samples", "temperature", "top_p", "max_tokens", "concurrency", "date_from", "date_to")


def eval_schedule_normalize(*, every: int, benchmark_name: str = "", options: dict | None = None) -> dict:
    """Check a training run's eval-every-N settings the way an evaluation's would be checked;
    returns {"every", "benchmark", "options"} with JSON-safe options. Raises EvalInputError."""
    every = _number(every, "eval_every", 0, 10_000_000, integer=True)
    options = {k: v for k, v in (options or {}).items() if v not in (None, "")}
    unknown = set(options) - set(SCHEDULE_OPTIONS)
    if unknown:
        raise EvalInputError(f"eval_{sorted(unknown)[0]}", "unknown evaluation option")
    if not every:
        return {"every": 0, "benchmark": "", "options": {}}
    out: dict[str, Any] = {}
    for key, lo, hi, integer in (("n_samples", 1, MAX_SAMPLES, True), ("temperature", 0, 2, False),
                                 ("top_p", 0.01, 1, False), ("max_tokens", 1, 1_000_000, True),
                                 ("concurrency", 1, MAX_CONCURRENCY, True)):
        if key in options:
            out[key] = _number(options[key], f"eval_{key}", lo, hi, integer=integer)
    dates = {}
    for key in ("date_from", "date_to"):
        if key in options:
            value = options[key]
            try:
                dates[key] = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            except ValueError:
                raise EvalInputError(f"eval_{key}", "expected a date YYYY-MM-DD") from None
            out[key] = dates[key].isoformat()
    if dates.get("date_from") and dates.get("date_to") and dates["date_from"] > dates["date_to"]:
        raise EvalInputError("eval_date_to", "the window ends before it starts")
    if not benchmark_problems(benchmark_name=benchmark_name, **dates).exists():
        raise EvalInputError("eval_benchmark", f"no benchmark problems{f' named {benchmark_name!r}' if benchmark_name else ''}"
                                               " in that contest-date window")
    return {"every": every, "benchmark": benchmark_name, "options": out}


def eval_checkpoint_recorded(checkpoint) -> EvalRun | None:
    """Called when a training run records a checkpoint (inside the poll's transaction): when the
    run evaluates every N steps and N divides the step, an evaluation of the checkpoint is created;
    its task starts after commit. One scheduled evaluation per checkpoint, whatever the retries."""
    training = checkpoint.run
    every = training.eval_every
    if not every or checkpoint.step % every or checkpoint.step == 0:
        return None
    if EvalRun.objects.filter(checkpoint=checkpoint, scheduled=True).exists():
        return None
    options = dict(training.eval_options or {})
    for key in ("date_from", "date_to"):
        if options.get(key):
            options[key] = dt.date.fromisoformat(options[key])
    try:
        with transaction.atomic():
            return eval_run_create(user=training.created_by, checkpoint=checkpoint, model_name="", base_url="",
                                   benchmark_name=training.eval_benchmark, scheduled=True, **options)
    except EvalInputError as exc:
        # The schedule was valid at launch; the benchmark may have changed since. The training run
        # goes on, and its timeline says why this step has no evaluation.
        from training_jobs.models import EventKind, TrainingEvent

        TrainingEvent.objects.create(run=training, kind=EventKind.BACKEND,
                                     message=f"scheduled evaluation of step {checkpoint.step} not started: {exc}")
        return None


# --- lcb_runner interchange ---------------------------------------------------------------------
def eval_import_lcb(*, user, data, model_name: str, name: str = "", benchmark_name: str = "") -> EvalRun:
    """lcb_runner's `eval_all` graded output → a finished evaluation (one transaction, one audit
    row). Problems are matched to ours by external id (bucket comes from ours); bad records are
    reported on the run, the rest are imported."""
    if not (model_name or "").strip():
        raise EvalInputError("model_name", "required")
    try:
        graded, bad = core.lcb_parse_graded(data)
    except core.InterchangeError as exc:
        raise EvalInputError("file", str(exc)) from None
    if not graded:
        raise EvalInputError("file", "no usable problem in the file" + (f" ({bad[0]})" if bad else ""))
    ours_qs = Problem.objects.filter(external_id__in=[g.question_id for g in graded])
    if benchmark_name:
        ours_qs = ours_qs.filter(benchmark_name=benchmark_name)
    ours: dict[str, Problem] = {}
    for p in ours_qs.order_by("-is_benchmark", "id"):
        ours.setdefault(p.external_id, p)
    with transaction.atomic():
        run = EvalRun.objects.create(
            name=name.strip()[:200], source=EvalSource.IMPORTED, model_name=model_name.strip(),
            benchmark_name=benchmark_name, n_samples=max(len(g.graded) for g in graded),
            created_by=user if getattr(user, "is_authenticated", False) else None,
            errors=[{"record": e.record, "field": e.field, "message": e.message} for e in bad],
        )
        eps = []
        for g in graded:
            p = ours.get(g.question_id)
            groups = {"label": g.difficulty.lower() if g.difficulty else "", "platform": g.platform.lower(),
                      "month": g.contest_date[:7], "bucket": ""}
            if p is not None:
                mine = problem_groups(p)
                groups = {k: groups[k] or mine[k] for k in groups}
                groups["bucket"] = mine["bucket"]
            eps.append(EvalProblem(run=run, problem=p, question_id=g.question_id, title=(p.title if p else "")[:500],
                                   n=len(g.graded), c=sum(g.graded), **groups))
        eps = EvalProblem.objects.bulk_create(eps)
        EvalSample.objects.bulk_create([
            EvalSample(run=run, eval_problem=ep, index=i, status=SampleStatus.JUDGED, code=code, language="python3",
                       # lcb_runner grades pass/fail per sample, not a verdict per test.
                       verdict="PASS" if ok else "FAIL", passed=ok)
            for ep, g in zip(eps, graded) for i, (ok, code) in enumerate(zip(g.graded, g.codes))
        ], batch_size=1000)
        total = sum(len(g.graded) for g in graded)
        run.problem_count = len(eps)
        run.total = run.done = total
        run.started_at = run.created_at
        run.save()
        audit_event_record(actor=user, action="eval_import_lcb", target=run,
                           after={"model": run.model_name, "problems": len(eps), "rejected": len(bad)})
        eval_run_finalize(run, errors=run.errors)
    return run
