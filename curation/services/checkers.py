"""Checkers for problems that accept many answers: synthesise (LLM), save a curator's edit,
approve — each a user action with one transaction and one audit row; the verification re-run
after an approval is dispatched after commit.

The pure core (prompt, mutations, sandbox validation) is `curation.judge.checker_synthesis`; this
module reads the problem, runs its reference solution for a second valid answer, and stores
`CheckerCandidate` rows. The `checkers` stage synthesises for many problems as one StageRun
(`synthesize_checkers` command), each problem isolated: a failure is recorded and the run goes on.
"""
from __future__ import annotations

import logging
from typing import Callable

from django.db import transaction
from django.utils import timezone

from curation.collect.records import FLAG_NOT_JUDGEABLE
from curation.judge import Limits, run_programs
from curation.judge.checker_synthesis import (
    CHECKER_PROMPT_VERSION,
    CheckerTask,
    SynthesisResult,
    accepts_many_answers,
    outputs_disagree_in_shape,
    synthesize_checker,
    validate_checker,
)
from curation.judge.languages import LANGUAGES
from curation.models import (
    CheckerCandidate,
    CheckerOrigin,
    CheckerStatus,
    Problem,
    StageRun,
    VerificationStatus,
)
from curation.services.audit import audit_event_record
from curation.services.runs import run_progress, run_start
from curation.services.stages import stage_run_create, stage_run_enqueue

logger = logging.getLogger(__name__)

Complete = Callable[[list[dict]], str]
MAX_TASK_TESTS = 12
REFERENCE_TIME_S = 6.0
# Outcomes whose problems may need a checker: the heuristic said so, or the reference disagrees
# with the tests (often a "print any" problem whose wording the heuristic missed).
CANDIDATE_OUTCOMES = (VerificationStatus.NEEDS_CHECKER, VerificationStatus.TESTS_INCONSISTENT)
MAX_SOURCE_CHARS = 100_000


class CheckerError(ValueError):
    """A checker action that cannot be done (wrong state, no tests, empty source)."""


def _sandbox_config():
    from curation.services.verification import sandbox_config  # one sandbox configuration

    return sandbox_config()


def checker_task(problem: Problem, *, with_reference: bool = True) -> CheckerTask:
    """The synthesiser's view of a problem: statement, training tests and — where a reference
    solution runs — its own answers (a second valid answer the checker must accept)."""
    tests = list(problem.tests.filter(is_training=True).order_by("ordinal").values_list("input", "output")[:MAX_TASK_TESTS])
    refs: list[str | None] = [None] * len(tests)
    if with_reference and tests and problem.io_format == "stdin":
        solution = problem.solutions.filter(is_correct=True, language__in=list(LANGUAGES)).order_by("ordinal").first()
        if solution is not None:
            runs, ce, _isolation = run_programs(
                solution.code, solution.language, [i for i, _o in tests],
                limits=Limits(time_s=REFERENCE_TIME_S, memory_mb=max(256, problem.memory_limit_mb or 512)),
                config=_sandbox_config())
            if ce is None:
                refs = [r.stdout if r.status == "OK" else None for r in runs]
    return CheckerTask(title=problem.title, statement=problem.statement, tests=tuple(tests), reference_outputs=tuple(refs))


def checker_likely_needed(problem: Problem, task: CheckerTask | None = None) -> tuple[bool, str]:
    """(likely, why): the statement's wording, or the reference answering differently in the same
    shape as the jury (how alternative valid answers look)."""
    if accepts_many_answers(problem.statement):
        return True, "the statement accepts more than one answer"
    if task is not None and outputs_disagree_in_shape([o for _i, o in task.tests], task.reference_outputs):
        return True, "the reference answers differently from the tests, in the same shape"
    return False, "no sign that the problem accepts more than one answer"


def _store(problem: Problem, *, source: str, origin: str, validation, reason: str, user=None, model: str = "",
           run: StageRun | None = None, attempts: list[dict] | None = None) -> CheckerCandidate:
    with transaction.atomic():
        candidate = CheckerCandidate.objects.create(
            problem=problem, source=source[:MAX_SOURCE_CHARS], origin=origin,
            status=CheckerStatus.VALID if validation.ok else CheckerStatus.REJECTED,
            reason=reason[:2000], validation={**validation.to_dict(), "attempts": [a.get("reason", "") for a in attempts or []]},
            model=model[:200], prompt_version=CHECKER_PROMPT_VERSION if origin == CheckerOrigin.LLM else "",
            stage_run=run, created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        audit_event_record(actor=user, action=f"checker_{origin}_{candidate.status}", target=problem,
                           after={"candidate": candidate.pk, "reason": candidate.reason[:300]})
    return candidate


def checker_synthesize(problem: Problem, *, complete: Complete | None = None, model: str = "", user=None,
                       run: StageRun | None = None, task: CheckerTask | None = None) -> CheckerCandidate:
    """Ask the LLM for a checker, validate it in the sandbox, store the candidate (valid or
    rejected with the reason). The LLM and sandbox work happen outside any transaction."""
    complete, model = (complete, model) if complete is not None else llm_complete()
    task = task or checker_task(problem)
    if not task.tests:
        raise CheckerError(f"problem {problem.pk} has no training tests to validate a checker on")
    result: SynthesisResult = synthesize_checker(task, complete)
    source = result.source or (result.attempts[-1]["source"] if result.attempts else "")
    return _store(problem, source=source, origin=CheckerOrigin.LLM, validation=result.validation,
                  reason=result.validation.reason, user=user, model=model, run=run, attempts=result.attempts)


def checker_save(problem: Problem, source: str, *, user) -> CheckerCandidate:
    """A curator's checker (new or edited): validated like a synthesised one, stored either way."""
    if not source.strip():
        raise CheckerError("the checker is empty")
    if len(source) > MAX_SOURCE_CHARS:
        raise CheckerError(f"the checker is longer than {MAX_SOURCE_CHARS} characters")
    task = checker_task(problem)
    if not task.tests:
        raise CheckerError(f"problem {problem.pk} has no training tests to validate a checker on")
    validation = validate_checker(source, task)
    return _store(problem, source=source, origin=CheckerOrigin.CURATOR, validation=validation,
                  reason=validation.reason, user=user)


def checker_approve(candidate: CheckerCandidate, *, user, reverify: bool = True) -> CheckerCandidate:
    """Make a validated candidate the problem's comparison rule (earlier approvals superseded),
    then re-run verification on it after commit."""
    if candidate.status != CheckerStatus.VALID:
        raise CheckerError(f"only a checker that passed validation can be approved (this one is {candidate.status})")
    with transaction.atomic():
        problem = Problem.objects.select_for_update().get(pk=candidate.problem_id)
        before = {"comparison": {k: v for k, v in (problem.comparison or {}).items() if k != "checker"}}
        CheckerCandidate.objects.filter(problem=problem, status=CheckerStatus.APPROVED).update(status=CheckerStatus.SUPERSEDED)
        candidate.status = CheckerStatus.APPROVED
        candidate.decided_by = user if getattr(user, "is_authenticated", False) else None
        candidate.decided_at = timezone.now()
        candidate.save(update_fields=["status", "decided_by", "decided_at"])
        previous = problem.comparison if (problem.comparison or {}).get("mode") != "checker" else \
            problem.comparison.get("replaces", {"mode": "tokens"})
        problem.comparison = {"mode": "checker", "checker": candidate.source, "checker_candidate": candidate.pk,
                              "replaces": previous}
        problem.save(update_fields=["comparison"])
        audit_event_record(actor=user, action="checker_approve", target=problem, before=before,
                           after={"candidate": candidate.pk})
        if reverify:
            run = stage_run_create(stage="verify", user=user, problem_ids=[problem.pk])
            stage_run_enqueue(run)  # dispatched on commit
    return candidate


class _Completer:
    """The one LLM client (`curation.llm`) as the core's `complete(messages) -> str`, keeping the
    token counts for the run row. A failed call raises: the service records it per problem."""

    def __init__(self, params: dict | None = None):
        from curation.llm.client import LLMClient
        from curation.llm.conf import LLMNotConfigured, llm_config

        try:
            self.config = llm_config(params)
        except LLMNotConfigured as exc:
            raise CheckerError(str(exc)) from None
        self.client = LLMClient(self.config)
        self.model = self.config.model

    def __call__(self, messages: list[dict]) -> str:
        # A checker is a whole program: more room than a difficulty score needs.
        out = self.client.complete(messages, max_tokens=max(2048, self.config.max_tokens))
        if not out.ok:
            raise CheckerError(f"the LLM call failed: {out.error}")
        return out.text


def llm_complete(params: dict | None = None) -> tuple[Complete, str]:
    """The configured endpoint (settings LLM_*, overridden by `params`) and its model name."""
    completer = _Completer(params)
    return completer, completer.model


def checkers_execute(run: StageRun) -> None:
    """Synthesise checkers for the given problems (default: every problem verification found
    needing a checker, and those with inconsistent tests where `checker_likely_needed` sees a
    second valid answer). `approve_valid` approves what validates (measurement runs; curators
    approve on the problem page otherwise)."""
    ids = run.params.get("problem_ids")
    qs = Problem.objects.order_by("pk")
    qs = qs.filter(pk__in=ids) if ids is not None else qs.filter(verification_status__in=CANDIDATE_OUTCOMES)
    complete = _Completer(run.params.get("llm") or None)
    model = complete.model
    run_start(run, total=qs.count())
    counts = {"valid": 0, "rejected": 0, "approved": 0, "failed": 0, "skipped": 0}
    errors = list(run.errors)
    for done, problem in enumerate(qs.iterator(), 1):
        try:
            if FLAG_NOT_JUDGEABLE in (problem.flags or []):  # interactive: a checker cannot help
                counts["skipped"] += 1
                run_progress(run, done=done)
                continue
            task = checker_task(problem)
            # A batch asks the LLM only where a checker is likely to help: problems with merely
            # inconsistent tests whose wording and reference answers show no second valid answer
            # are skipped (a curator can still ask for one on the problem page).
            if ids is None and problem.verification_status == VerificationStatus.TESTS_INCONSISTENT \
                    and not checker_likely_needed(problem, task)[0]:
                counts["skipped"] += 1
                run_progress(run, done=done)
                continue
            candidate = checker_synthesize(problem, complete=complete, model=model, run=run, task=task)
            counts[candidate.status] += 1
            if candidate.status == CheckerStatus.VALID and run.params.get("approve_valid"):
                checker_approve(candidate, user=run.created_by, reverify=False)
                counts["approved"] += 1
        except Exception as exc:  # noqa: BLE001 — one problem's failure must not stop the run
            logger.exception("checker synthesis failed for problem %s", problem.pk)
            counts["failed"] += 1
            errors.append({"record": str(problem.pk), "field": "checker", "message": f"{type(exc).__name__}: {exc}"[:500]})
            StageRun.objects.filter(pk=run.pk).update(errors=errors)
        run_progress(run, done=done)
        StageRun.objects.filter(pk=run.pk).update(counts=counts)
    run.counts = counts
    run.errors = errors
    run.prompt_tokens = complete.client.usage.prompt_tokens
    run.completion_tokens = complete.client.usage.completion_tokens
    run.save(update_fields=["counts", "errors", "prompt_tokens", "completion_tokens"])
