"""Measure stage: a reference model's pass rate per problem — k solutions sampled through the
LLM client and judged with the problem's judge spec — and imported graded results."""
from __future__ import annotations

import random
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.text import get_valid_filename

from curation.difficulty import passrate as passrate_core
from curation.judge import Verdict
from curation.judge import mode as judge_mode
from curation.llm.client import LLMClient
from curation.llm.conf import llm_config
from curation.llm.prompts import problem_instruction, solve_messages
from curation.models import PassRateMeasurement, Problem, StageRun
from curation.selectors import problem_judge_spec
from curation.services.audit import audit_event_record
from curation.services.runs import ProblemFailures, run_judge_mode_add, run_progress, run_start




# --- pass rates -------------------------------------------------------------------------


def pass_rates_import(*, path: str, model: str | None = None, user=None) -> dict:
    """Import graded results (LiveCodeBench style: question id + pass/fail per sample, per model)."""
    results = passrate_core.parse_graded_results(path, model=model)
    rows, matched, unmatched = _imported_measurements(results, _problem_keys(), model)
    with transaction.atomic():
        PassRateMeasurement.objects.bulk_create(rows)
        audit_event_record(actor=user, action="pass_rates_import", target=path, after={"matched": matched, "unmatched": len(unmatched)})
    return {"results": len(results), "matched": matched, "unmatched": unmatched[:50], "measurements": len(rows)}


def problem_solve_messages(problem: Problem) -> list[dict[str, str]]:
    instruction = problem_instruction(problem.format_instruction, problem.io_format, problem.function_name, problem.starter_code)
    return solve_messages(problem.title, problem.statement, instruction)


def _measure_one(problem: Problem, answers: list[str], judge_fn) -> tuple[int, dict]:
    """(passes, the weakest judge mode among the answers judged; {} when none was)."""
    spec = problem_judge_spec(problem)  # read once, judged k times
    passes = 0
    modes = []
    for text in answers:
        code = passrate_core.extract_code(text)
        report = judge_fn(problem, code, spec=spec) if code else None
        if report is None:
            continue
        modes.append(judge_mode.report_mode(report))
        if report.verdict == Verdict.AC:
            passes += 1
    return passes, judge_mode.weakest(*modes)


def measure_execute(run: StageRun) -> None:
    """Ask a reference model for k solutions per sampled problem, judge them, store the passes."""
    from curation.services.verification import judge_candidate_report

    params = run.params
    k = int(params.get("k", 4))
    config = llm_config(params)
    ids = params.get("problem_ids")
    qs = Problem.objects.order_by("pk")
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    problems = list(qs)
    sample_size = params.get("sample_size")
    if sample_size and int(sample_size) < len(problems):
        problems = sorted(random.Random(int(params.get("seed", 0))).sample(problems, int(sample_size)), key=lambda p: p.pk)
    run_start(run, total=len(problems))
    counts = {"problems": 0, "samples": 0, "passes": 0, "failed": 0}
    run.counts = counts
    failures = ProblemFailures(run, "measure")
    client = LLMClient(config)
    for start in range(0, len(problems), 16):
        chunk = problems[start:start + 16]
        prompts = [failures.attempt(p.pk, problem_solve_messages, p) for p in chunk]
        chunk = [p for p, (ok, _m) in zip(chunk, prompts) if ok]
        # Sampling needs spread: at least temperature 0.7 and room for a whole program.
        samples = client.sample([m for ok, m in prompts if ok], k,
                                temperature=max(config.temperature, 0.7), max_tokens=max(config.max_tokens, 2048))
        rows = []
        for problem, row in zip(chunk, samples):
            texts = [s.text for s in row if not s.error]
            if not texts and row and row[0].error:
                failures.record(problem.pk, f"no answer from {config.model}: {row[0].error}")
                continue
            # A problem whose spec cannot be built or whose judging breaks fails alone.
            ok, measured = failures.attempt(problem.pk, _measure_one, problem, texts, judge_candidate_report)
            if not ok:
                continue
            passes, mode = measured
            run_judge_mode_add(run, mode)
            rows.append(PassRateMeasurement(problem=problem, stage_run=run, model=config.model, samples=len(texts), passes=passes))
            counts["problems"] += 1
            counts["samples"] += len(texts)
            counts["passes"] += passes
        PassRateMeasurement.objects.bulk_create(rows)
        failures.clear([r.problem.pk for r in rows])
        run_progress(run, done=run.done + len(prompts), prompt_tokens=client.usage.prompt_tokens,
                     completion_tokens=client.usage.completion_tokens)
        StageRun.objects.filter(pk=run.pk).update(counts=counts)
    run.save(update_fields=["counts", "errors"])


# --- pass-rate import as a job (the pipeline page's upload) -----------------------------------

IMPORT_BATCH = 2000


class PassRateUploadError(passrate_core.GradedResultsError):
    pass


def _problem_keys() -> dict[str, list[int]]:
    """question id -> problem ids: a problem's external id, and the question_id its importer kept."""
    by_key: dict[str, list[int]] = {}
    for pid, ext, qid in Problem.objects.values_list("pk", "external_id", "extra__question_id"):
        by_key.setdefault(str(ext), []).append(pid)
        if qid not in (None, ""):
            by_key.setdefault(str(qid), []).append(pid)
    return by_key


def _imported_measurements(results, by_key: dict[str, list[int]], model: str | None,
                           stage_run: StageRun | None = None) -> tuple[list[PassRateMeasurement], int, list[str]]:
    """(unsaved measurements, results matched, question ids matched by no problem) for graded
    results: one measurement per problem a result's question id names."""
    rows, matched, unmatched = [], 0, []
    for r in results:
        pids = by_key.get(str(r.question_id))
        if not pids:
            unmatched.append(str(r.question_id))
            continue
        matched += 1
        rows.extend(PassRateMeasurement(problem_id=pid, stage_run=stage_run, model=r.model or model or "unknown",
                                        samples=r.n, passes=r.passes, origin="imported") for pid in set(pids))
    return rows, matched, unmatched


def pass_rates_upload_path(relative: str) -> Path:
    """The stored upload a run names (relative to UPLOAD_DIR, so no server path reaches a page or
    the API); refuses anything that would leave the folder."""
    root = Path(settings.UPLOAD_DIR).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise PassRateUploadError(f"upload {relative!r} is outside the upload folder")
    return path


def pass_rates_import_start(*, upload, model: str | None, user) -> StageRun:
    """Store an uploaded graded file (already validated by the form) and start its import job:
    the file, the run row and its audit row; the task runs after commit."""
    from curation.services.stages import stage_run_start

    relative = f"pass_rates/{uuid.uuid4().hex}/{get_valid_filename(Path(upload.name).name) or 'graded.json'}"
    path = pass_rates_upload_path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    params = {"upload": relative, "file_name": path.name}
    if model:
        params["model"] = model
    return stage_run_start(stage="pass_rates", user=user, params=params)


def pass_rates_import_execute(run: StageRun) -> None:
    """Executor of the `pass_rates` stage: parse the run's file (JSON/JSONL only, never eval or
    unpickle), match each result to problems, store measurements in batches with progress."""
    path = pass_rates_upload_path(run.params["upload"])
    model = run.params.get("model") or None
    try:
        results = passrate_core.parse_graded_text(path.read_bytes(), model=model)
    except passrate_core.GradedResultsError as exc:
        raise PassRateUploadError(f"{run.params.get('file_name', 'the file')}: {exc}") from None
    run_start(run, total=len(results))
    # A task redelivered after a worker died mid-import starts over, without doubling the evidence.
    PassRateMeasurement.objects.filter(stage_run=run).delete()
    by_key = _problem_keys()
    counts = {"results": len(results), "matched": 0, "unmatched": 0, "measurements": 0, "unmatched_ids": []}
    run.counts = counts
    for start in range(0, len(results), IMPORT_BATCH):
        rows, matched, unmatched = _imported_measurements(results[start:start + IMPORT_BATCH], by_key, model, run)
        counts["matched"] += matched
        counts["unmatched"] += len(unmatched)
        counts["unmatched_ids"].extend(unmatched[:50 - len(counts["unmatched_ids"])])
        with transaction.atomic():
            PassRateMeasurement.objects.bulk_create(rows)
        counts["measurements"] += len(rows)
        StageRun.objects.filter(pk=run.pk).update(counts=counts)
        run_progress(run, done=min(len(results), start + IMPORT_BATCH))
    audit_event_record(actor=run.created_by, action="pass_rates_import", target=run,
                       after={k: v for k, v in counts.items() if k != "unmatched_ids"})
    run.save(update_fields=["counts"])
