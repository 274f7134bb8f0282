"""Verification stage (stage 4): run every reference solution on its problem's tests in the
sandbox, store per-test verdicts, and classify the problem.

Classification (first that applies):
- `no_reference`: no correct reference solution in a language the judge supports;
- `verified`: some reference solution passes every training test — with the problem's rule, or
  failing that with a float tolerance (1e-6) or case-insensitive tokens, which the problem then
  keeps (the run's detail says so, for a curator to confirm);
- `reference_too_slow`: the references fail only by time (TLE);
- `needs_checker`: wrong answers on a problem whose statement accepts any valid answer
  ("print any of them", "if there are several answers");
- `tests_inconsistent`: wrong answers otherwise — the tests that fail are named;
- `error`: the references crash (RE/MLE/CE/OLE) or the judge fails (SE).

Time limit: when the source gives none, the problem gets
`max(1 s, TIME_LIMIT_FACTOR × slowest reference CPU time)`, rounded up to 100 ms. The factor 3
follows common judge practice (Codeforces/ICPC set limits at 2–3× the model solution) and leaves
room for a slower but correct CPython submission.
"""
from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import transaction

from curation.judge import JudgeReport, Limits, SandboxConfig, Verdict
from curation.judge.checker_synthesis import accepts_many_answers
from curation.judge.spec import JudgeSpec, JudgeSpecError
from curation.judge.languages import LANGUAGES
from curation.models import Problem, StageRun, VerificationRun, VerificationStatus
from curation.models import Verdict as VerdictRow
from curation.selectors import problem_judge_spec, problem_training_tests
from curation.services.runs import ProblemFailures, run_progress, run_start

logger = logging.getLogger(__name__)

TIME_LIMIT_FACTOR = 3.0
MIN_TIME_LIMIT_MS = 1000
# How long a reference may run per test while we measure it, when the source sets no limit, is
# the judge spec's default (curation.judge.spec.DEFAULT_TIME_LIMIT_S, 6 s).
# Slack over a source's limit: the source measured C++ or PyPy, we run CPython.
SOURCE_LIMIT_SLACK = 2.0
MAX_REFERENCES = 3


def sandbox_config() -> SandboxConfig:
    return SandboxConfig(allow_unsandboxed=settings.JUDGE_ALLOW_UNSANDBOXED, python_path=settings.JUDGE_PYTHON)


@dataclass
class ProblemJob:
    """Plain data for one problem, so the judging can run off the database thread."""

    problem_id: int
    spec: JudgeSpec | None  # None when the problem's facts cannot make one (`error` says why)
    limits: Limits  # the spec's, with slack over a source's limit (see SOURCE_LIMIT_SLACK)
    test_ids: list[int]
    solutions: list[tuple[int, str, str]]  # (solution id, language, code)
    reports: list[tuple[int, JudgeReport]] = field(default_factory=list)
    error: str = ""
    relaxed_from: dict | None = None  # the rule the problem had, when a relaxed one verified it

    @property
    def comparison(self) -> dict:
        return self.spec.comparison if self.spec else {}


def problem_job(problem: Problem) -> ProblemJob:
    tests = problem_training_tests(problem)
    solutions = [
        (pk, lang, code)
        for pk, lang, code in problem.solutions.filter(is_correct=True).order_by("ordinal").values_list("pk", "language", "code")
        if lang in LANGUAGES
    ][:MAX_REFERENCES]
    test_ids = [pk for pk, _i, _o in tests]
    try:
        spec = problem_judge_spec(problem, [(i, o) for _pk, i, o in tests])
    except JudgeSpecError as exc:
        return ProblemJob(problem.pk, None, Limits(), test_ids, solutions, error=f"judge spec: {exc}")
    # The source measured C++ or PyPy, we run CPython: slack over its limit. Without one the
    # spec's default is the measuring allowance the derived limit is computed from.
    time_s = spec.time_limit_s * SOURCE_LIMIT_SLACK if problem.time_limit_ms else spec.time_limit_s
    return ProblemJob(problem.pk, spec, Limits(time_s=time_s, memory_mb=spec.memory_limit_mb), test_ids, solutions)


# Rules tried, in order, when a reference gets only wrong answers under the default token rule:
# the statement's tolerance often goes undetected ("print the probability") and YES/NO answers
# come in either case. A problem verified this way keeps the rule and says so.
RELAXED_RULES = (
    {"mode": "float", "abs_tol": 1e-6, "rel_tol": 1e-6},
    {"mode": "case_insensitive"},
)


def run_job(job: ProblemJob, config: SandboxConfig) -> ProblemJob:
    """Judge every reference of one problem (no database access: safe in a worker thread)."""
    _judge_references(job, config)
    best = min((r for _sid, r in job.reports), key=_failures, default=None)
    only_wrong = best is not None and {t.verdict for t in best.tests} <= {Verdict.AC, Verdict.WA}
    if not job.error and only_wrong and best.verdict == Verdict.WA and job.spec.io_format == "stdin" \
            and job.comparison.get("mode", "tokens") == "tokens":
        for rule in RELAXED_RULES:
            trial = ProblemJob(**{**job.__dict__, "spec": replace(job.spec, comparison=rule), "reports": []})
            _judge_references(trial, config)
            if any(r.verdict == Verdict.AC for _sid, r in trial.reports):
                trial.relaxed_from = job.comparison
                return trial
    return job


def _run_job_guarded(job: ProblemJob, config: SandboxConfig) -> ProblemJob:
    """run_job, but a judge bug on one problem becomes that problem's `error` outcome instead of
    an exception that would end the pool's map (and the run) for the whole batch."""
    try:
        return run_job(job, config)
    except Exception as exc:  # noqa: BLE001
        logger.exception("verification of problem %s failed", job.problem_id)
        return ProblemJob(job.problem_id, job.spec, job.limits, job.test_ids, job.solutions,
                          error=f"{type(exc).__name__}: {exc}")


def _failures(report: JudgeReport) -> int:
    return sum(1 for t in report.tests if t.verdict != Verdict.AC)


def _judge_references(job: ProblemJob, config: SandboxConfig) -> None:
    for solution_id, language, code in job.solutions:
        try:
            report = job.spec.judge(code, language, config=config, limits=job.limits)
        except Exception as exc:  # noqa: BLE001 — SandboxUnavailable or a judge bug: the problem says so
            job.error = f"{type(exc).__name__}: {exc}"
            return
        job.reports.append((solution_id, report))
        if report.verdict == Verdict.AC:
            break  # one passing reference verifies the tests; the rest would only cost time


def classify(job: ProblemJob, statement: str) -> tuple[str, str, list[int]]:
    """(status, detail, inconsistent test ids) for a judged problem."""
    if job.error:
        return VerificationStatus.ERROR, job.error, []
    if not job.solutions:
        return VerificationStatus.NO_REFERENCE, "no correct reference solution in a supported language", []
    if not job.test_ids:
        return VerificationStatus.ERROR, "no training tests to verify against", []
    if any(report.verdict == Verdict.AC for _sid, report in job.reports):
        if job.relaxed_from is not None:
            return VerificationStatus.VERIFIED, f"verified with comparison {job.comparison} (was {job.relaxed_from}): confirm", []
        return VerificationStatus.VERIFIED, "", []
    best = min((r for _sid, r in job.reports), key=_failures)
    failing = {t.verdict for t in best.tests if t.verdict != Verdict.AC}
    if failing == {Verdict.TLE}:
        return VerificationStatus.REFERENCE_TOO_SLOW, f"{sum(1 for t in best.tests if t.verdict == Verdict.TLE)} tests over the time limit", []
    wrong = [job.test_ids[t.index] for t in best.tests if t.verdict == Verdict.WA]
    if failing <= {Verdict.WA, Verdict.TLE}:
        if accepts_many_answers(statement):  # the wording, one definition (checker_synthesis)
            return VerificationStatus.NEEDS_CHECKER, f"{len(wrong)} wrong answers on a problem that accepts any valid answer", wrong
        return VerificationStatus.TESTS_INCONSISTENT, f"reference disagrees with {len(wrong)} tests", wrong
    first = next(t for t in best.tests if t.verdict not in (Verdict.AC, Verdict.WA, Verdict.TLE))
    return VerificationStatus.ERROR, f"reference gets {first.verdict.value} on test {first.index}: {first.diff[:200]}", wrong


def _store(run: StageRun, problem: Problem, job: ProblemJob) -> str:
    status, detail, inconsistent = classify(job, problem.statement)
    max_cpu = max((r.max_time_cpu for _sid, r in job.reports), default=None)
    derived = None
    if status == VerificationStatus.VERIFIED and not problem.time_limit_ms and max_cpu is not None:
        passing = [r for _sid, r in job.reports if r.verdict == Verdict.AC]
        slowest = max(r.max_time_cpu for r in passing)
        derived = max(MIN_TIME_LIMIT_MS, int(math.ceil(slowest * TIME_LIMIT_FACTOR * 10)) * 100)
    isolation = next((r.isolation for _sid, r in job.reports), "")
    with transaction.atomic():
        vrun = VerificationRun.objects.create(
            problem=problem, stage_run=run, outcome=status, detail=detail[:2000], inconsistent_tests=inconsistent,
            isolation=isolation, max_reference_ms=max_cpu * 1000 if max_cpu is not None else None,
            derived_time_limit_ms=derived,
        )
        test_ids = job.test_ids
        VerdictRow.objects.bulk_create([
            VerdictRow(verification_run=vrun, solution_id=sid, test_id=test_ids[t.index], verdict=t.verdict.value,
                       time_ms=t.time_cpu * 1000, memory_kb=t.memory_kb, diff=t.diff[:500])
            for sid, report in job.reports for t in report.tests
        ])
        fields = {"verification_status": status}
        if job.relaxed_from is not None and status == VerificationStatus.VERIFIED:
            fields["comparison"] = job.comparison
        if derived is not None:
            fields["time_limit_ms"] = derived
            fields["extra"] = {**problem.extra, "time_limit_origin": f"derived: {TIME_LIMIT_FACTOR:g} x reference"}
        Problem.objects.filter(pk=problem.pk).update(**fields)
    return status


def problem_verify(problem: Problem, *, run: StageRun | None = None) -> str:
    """Verify one problem inline; returns its new verification status."""
    return _store(run, problem, run_job(problem_job(problem), sandbox_config()))


def verify_execute(run: StageRun) -> None:
    ids = run.params.get("problem_ids")
    qs = Problem.objects.order_by("pk")
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    run_start(run, total=qs.count())
    config = sandbox_config()
    counts: dict[str, int] = {}
    run.counts = counts
    failures = ProblemFailures(run, "verify")
    parallel = int(run.params.get("parallel") or getattr(settings, "VERIFY_PARALLELISM", 2))
    last = 0
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        while True:
            batch = list(qs.filter(pk__gt=last)[:20])
            if not batch:
                break
            last = batch[-1].pk
            prepared = [(p, failures.attempt(p.pk, problem_job, p)) for p in batch]
            prepared = [(p, job) for p, (ok, job) in prepared if ok]
            # Judging happens in sandboxed subprocesses; threads only wait for them.
            judged = pool.map(lambda j: _run_job_guarded(j, config), [job for _p, job in prepared])
            stored = []
            for (problem, _job), job in zip(prepared, judged):
                ok, status = failures.attempt(problem.pk, _store, run, problem, job)
                if ok:
                    counts[status] = counts.get(status, 0) + 1
                    stored.append(problem.pk)
            failures.clear(stored)
            StageRun.objects.filter(pk=run.pk).update(counts=counts)
            run_progress(run, done=run.done + len(batch))
    run.counts = counts
    run.save(update_fields=["counts"])


def judge_candidate(problem: Problem, code: str, language: str = "python3", *, spec: JudgeSpec | None = None) -> bool:
    """Does a candidate (e.g. a model's answer) pass the problem's training tests? Judged through
    the problem's spec — the same rule, entry point, prelude, tests and limits (without
    verification's slack) that snapshots freeze — so a verified problem scores the same here as in
    training. Pass `spec` to judge many candidates of one problem without re-reading it."""
    spec = spec or problem_judge_spec(problem)
    if not spec.tests:
        return False
    return spec.judge(code, language, config=sandbox_config()).verdict == Verdict.AC
