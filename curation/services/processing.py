"""Processing stage (stage 2): the Django side around `curation.process`.

Steps, in their default order:
- `normalize`: statement → clean Markdown, io format and signature, format instruction,
  incompleteness reasons (process_status `incomplete` with the reasons, else `ok`);
- `samples`: sample tests extracted from the statement where a problem has none;
- `tests`: exact duplicate tests dropped, empty/oversized flagged, the training subset chosen;
- `dedup`: exact and near duplicates clustered, a canonical member per cluster;
- `decontam`: training problems matching a benchmark problem flagged, each match stored.
Every step is idempotent: it recomputes from the imported content, never from its own output.
"""
from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import Max, QuerySet

from curation.judge.compare import detect_float_tolerance
from curation.models import Problem, ProcessStatus, StageRun, TestCase
from curation.pipeline import PROCESS_STEPS
from curation.process import normalize as norm
from curation.process import samples as sample_extraction
from curation.process import tests_hygiene
from curation.services.runs import ProblemFailures, run_progress, run_start

STEPS = PROCESS_STEPS  # the stage map declares them
BATCH_SIZE = 200
TRAINING_TEST_CAP = getattr(settings, "TRAINING_TEST_CAP", 32)


def problems_for_run(run: StageRun) -> QuerySet[Problem]:
    ids = run.params.get("problem_ids")
    qs = Problem.objects.all()
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.order_by("pk")


def _batches(qs: QuerySet[Problem]) -> Iterator[list[Problem]]:
    last = 0
    while True:
        batch = list(qs.filter(pk__gt=last)[:BATCH_SIZE])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


# --- normalize --------------------------------------------------------------------------


def problem_normalize(problem: Problem) -> list[str]:
    """Recompute the processed fields of one problem from its imported statement."""
    original = problem.statement_original or problem.statement
    problem.statement = norm.normalize_statement(original, problem.extra.get("statement_format"))
    detected = norm.detect_io_format(problem.statement, problem.starter_code, problem.function_name)
    if problem.io_format == "functional" or detected.signature is not None:
        # The importer's word on the format wins; detection fills in the signature.
        signature = detected.signature or norm.parse_starter_code(problem.starter_code, problem.function_name)
        problem.io_format = "functional"
        problem.function_name = problem.function_name or detected.function_name
        problem.signature = str(signature) if signature else ""
    else:
        problem.signature = ""
    problem.format_instruction = norm.format_instruction(problem.io_format, problem.function_name, problem.starter_code)
    if (problem.comparison or {}).get("mode", "tokens") == "tokens" and problem.io_format == "stdin":
        # "absolute or relative error does not exceed 10^-6": compare numbers with tolerance.
        problem.comparison = detect_float_tolerance(problem.statement) or problem.comparison or {"mode": "tokens"}
    reasons = norm.detect_incomplete(problem.statement, problem.io_format)
    _statement_warnings_store(problem, norm.statement_warnings(problem.statement))
    problem.process_status = ProcessStatus.INCOMPLETE if reasons else ProcessStatus.OK
    problem.process_reasons = reasons
    return reasons


def _statement_warnings_store(problem: Problem, warnings: dict) -> None:
    """Warnings for the curator (a suspected lost superscript: "≤ 109"), as a flag + details."""
    flags = [f for f in (problem.flags or []) if f not in STATEMENT_WARNING_FLAGS]
    problem.flags = flags + sorted(warnings)
    extra = {k: v for k, v in (problem.extra or {}).items() if k != "statement_warnings"}
    problem.extra = {**extra, "statement_warnings": warnings} if warnings else extra


STATEMENT_WARNING_FLAGS = ("lost_superscript",)


NORMALIZED_FIELDS = ["statement", "io_format", "function_name", "signature", "format_instruction", "comparison",
                     "process_status", "process_reasons", "flags", "extra"]


def _failures(run: StageRun, step: str, counts: dict) -> ProblemFailures:
    # A problem a step fails on is not "processed": its status says so until a rerun succeeds.
    run.counts[step] = counts  # live in the run row while the step runs
    return ProblemFailures(run, step, on_failure={"process_status": ProcessStatus.FAILED}, counts=counts)


def step_normalize(run: StageRun, qs: QuerySet[Problem]) -> dict:
    counts = {"normalized": 0, "incomplete": 0, "failed": 0}
    failures = _failures(run, "normalize", counts)
    for batch in _batches(qs):
        done = []
        for problem in batch:
            ok, reasons = failures.attempt(problem.pk, problem_normalize, problem)
            if ok:
                done.append(problem)
                counts["incomplete"] += bool(reasons)
        try:
            with transaction.atomic():
                Problem.objects.bulk_update(done, NORMALIZED_FIELDS)
        except Exception:  # noqa: BLE001 — one row the database refuses: write them one by one
            done = [p for p in done if failures.attempt(p.pk, p.save, update_fields=NORMALIZED_FIELDS)[0]]
        counts["normalized"] += len(done)
        failures.clear([p.pk for p in done])
        _advance(run, len(batch))
    return counts


# --- samples ----------------------------------------------------------------------------


def problem_samples_extract(problem: Problem) -> int:
    """Make the statement's examples sample tests when the problem has none: an example that is
    already a hidden test is re-marked, a new one is added. Returns how many samples it made."""
    tests = list(problem.tests.all())
    if any(t.kind == "sample" for t in tests):
        return 0
    found = sample_extraction.extract_samples(problem.statement, problem.platform)
    if not found:
        return 0
    by_input = {tests_hygiene.normalize_test_text(t.input): t for t in tests}
    top = problem.tests.aggregate(m=Max("ordinal"))["m"]
    next_ordinal = 0 if top is None else top + 1  # not `(top or -1) + 1`: a top ordinal of 0 is falsy
    added = 0
    with transaction.atomic():
        for sample_input, sample_output in found:
            existing = by_input.get(tests_hygiene.normalize_test_text(sample_input))
            if existing is not None:
                # The example is already a hidden test: mark it instead of storing it twice.
                existing.kind = "sample"
                existing.save(update_fields=["kind"])
                added += 1
                continue
            TestCase.objects.create(
                problem=problem, ordinal=next_ordinal, input=sample_input, output=sample_output, kind="sample",
                size_bytes=len(sample_input.encode()) + len(sample_output.encode()), flags=["extracted_from_statement"],
            )
            next_ordinal += 1
            added += 1
    return added


def step_samples(run: StageRun, qs: QuerySet[Problem]) -> dict:
    counts = {"problems_with_new_samples": 0, "samples_made": 0, "failed": 0}
    failures = _failures(run, "samples", counts)
    for batch in _batches(qs):
        for problem in batch:
            ok, added = failures.attempt(problem.pk, problem_samples_extract, problem)
            if added:
                counts["problems_with_new_samples"] += 1
                counts["samples_made"] += added
        failures.clear([p.pk for p in batch])
        _advance(run, len(batch))
    return counts


# --- tests ------------------------------------------------------------------------------


def problem_tests_clean(problem: Problem, *, cap: int = TRAINING_TEST_CAP) -> dict:
    tests = list(problem.tests.order_by("ordinal"))
    selection = tests_hygiene.choose_training_tests(tests, cap=cap, max_bytes=settings.IMPORT_MAX_TEST_BYTES)
    report = selection.report
    duplicate_ids = [tests[i].pk for i in report.duplicate_of]
    chosen = set(selection.chosen)
    with transaction.atomic():
        TestCase.objects.filter(pk__in=duplicate_ids).delete()
        keep = []
        for i, test in enumerate(tests):
            if i in report.duplicate_of:
                continue
            test.flags = [f for f in report.flags.get(i, []) if f != tests_hygiene.FLAG_DUPLICATE]
            test.is_training = i in chosen
            keep.append(test)
        TestCase.objects.bulk_update(keep, ["flags", "is_training"])
        reasons = [r for r in problem.process_reasons if not r.startswith("tests:")]
        reasons += [f"tests:{flag}" for flag in report.problem_flags]
        if reasons != problem.process_reasons:
            problem.process_reasons = reasons
            problem.save(update_fields=["process_reasons"])
    return {"dropped": len(duplicate_ids), "training": len(chosen), "total": len(keep)}


def step_tests(run: StageRun, qs: QuerySet[Problem]) -> dict:
    counts = {"duplicate_tests_dropped": 0, "training_tests": 0, "problems_capped": 0, "failed": 0}
    failures = _failures(run, "tests", counts)
    for batch in _batches(qs):
        for problem in batch:
            ok, result = failures.attempt(problem.pk, problem_tests_clean, problem)
            if not ok:
                continue
            counts["duplicate_tests_dropped"] += result["dropped"]
            counts["training_tests"] += result["training"]
            counts["problems_capped"] += int(result["training"] < result["total"])
        failures.clear([p.pk for p in batch])
        _advance(run, len(batch))
    return counts


# --- run --------------------------------------------------------------------------------


def _advance(run: StageRun, n: int) -> None:
    run_progress(run, done=run.done + n)


STEP_FUNCTIONS = {"normalize": step_normalize, "samples": step_samples, "tests": step_tests}


def _global_steps():
    from curation.services import decontamination, duplicates

    return {"dedup": duplicates.step_dedup, "decontam": decontamination.step_decontam}


def process_execute(run: StageRun) -> None:
    steps = [run.step] if run.step else list(STEPS)
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise ValueError(f"unknown step '{unknown[0]}'; steps: {', '.join(STEPS)}")
    qs = problems_for_run(run)
    n = qs.count()
    per_problem = [s for s in steps if s in STEP_FUNCTIONS]
    run_start(run, total=n * len(per_problem) + (len(steps) - len(per_problem)))
    # counts: one entry per step, each with its "failed" problems (the reasons are in errors).
    run.counts = {}
    functions = {**STEP_FUNCTIONS, **_global_steps()}
    for step in steps:
        run.counts[step] = functions[step](run, qs)
        if step not in STEP_FUNCTIONS:
            _advance(run, 1)
        StageRun.objects.filter(pk=run.pk).update(counts=run.counts)
    run.save(update_fields=["counts"])
