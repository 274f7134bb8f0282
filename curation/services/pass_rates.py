"""Measure stage: a reference model's pass rate per problem — k solutions sampled through the
LLM client and judged with the problem's judge spec — and imported graded results."""
from __future__ import annotations

import random

from django.db import transaction

from curation.difficulty import passrate as passrate_core
from curation.llm.client import LLMClient
from curation.llm.conf import llm_config
from curation.llm.prompts import problem_instruction, solve_messages
from curation.models import PassRateMeasurement, Problem, StageRun
from curation.selectors import problem_judge_spec
from curation.services.audit import audit_event_record
from curation.services.runs import ProblemFailures, run_progress, run_start




# --- pass rates -------------------------------------------------------------------------


def pass_rates_import(*, path: str, model: str | None = None, user=None) -> dict:
    """Import graded results (LiveCodeBench style: question id + pass/fail per sample, per model)."""
    results = passrate_core.parse_graded_results(path, model=model)
    by_key: dict[str, list[int]] = {}
    for pid, ext, qid in Problem.objects.values_list("pk", "external_id", "extra__question_id"):
        by_key.setdefault(str(ext), []).append(pid)
        if qid not in (None, ""):
            by_key.setdefault(str(qid), []).append(pid)
    matched, unmatched = 0, []
    rows = []
    for r in results:
        pids = by_key.get(str(r.question_id))
        if not pids:
            unmatched.append(str(r.question_id))
            continue
        for pid in set(pids):
            rows.append(PassRateMeasurement(problem_id=pid, model=r.model or model or "unknown", samples=r.n, passes=r.passes, origin="imported"))
        matched += 1
    with transaction.atomic():
        PassRateMeasurement.objects.bulk_create(rows)
        audit_event_record(actor=user, action="pass_rates_import", target=path, after={"matched": matched, "unmatched": len(unmatched)})
    return {"results": len(results), "matched": matched, "unmatched": unmatched[:50], "measurements": len(rows)}


def problem_solve_messages(problem: Problem) -> list[dict[str, str]]:
    instruction = problem_instruction(problem.format_instruction, problem.io_format, problem.function_name, problem.starter_code)
    return solve_messages(problem.title, problem.statement, instruction)


def _measure_one(problem: Problem, answers: list[str], judge_fn) -> int:
    spec = problem_judge_spec(problem)  # read once, judged k times
    passes = 0
    for text in answers:
        code = passrate_core.extract_code(text)
        if code and judge_fn(problem, code, spec=spec):
            passes += 1
    return passes


def measure_execute(run: StageRun) -> None:
    """Ask a reference model for k solutions per sampled problem, judge them, store the passes."""
    from curation.services.verification import judge_candidate

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
            ok, passes = failures.attempt(problem.pk, _measure_one, problem, texts, judge_candidate)
            if not ok:
                continue
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
