"""Predict stage: the five difficulty dimensions per problem (LLM endpoint or the offline
features model, both behind `curation.difficulty.predictors`), stored as Prediction rows and as
the problem's current scores; and training the features model."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from curation.difficulty.predictors import features as features_core
from curation.difficulty.predictors.base import CacheKey, PredictionResult, ProblemInput
from curation.difficulty.rubric import Rubric, weighted_score
from curation.llm.conf import llm_config
from curation.models import (
    DIMENSIONS,
    DifficultyModel,
    DifficultyRubric,
    Prediction,
    Problem,
    ReferenceSolution,
    StageRun,
    TestCase,
)
from curation.services.audit import audit_event_record
from curation.services.runs import ProblemFailures, run_progress, run_start


from curation.services.rubrics import DifficultyError, rubric_active, rubric_core

BATCH_SIZE = 100


# --- predictor inputs -------------------------------------------------------------------


def problem_inputs(problems: Sequence[Problem]) -> list[ProblemInput]:
    ids = [p.pk for p in problems]
    tests: dict[int, list[tuple[str, int]]] = {}
    for pid, kind, size in TestCase.objects.filter(problem_id__in=ids).values_list("problem_id", "kind", "size_bytes"):
        tests.setdefault(pid, []).append((kind, size))
    solutions: dict[int, str] = {}
    for pid, code in ReferenceSolution.objects.filter(problem_id__in=ids, is_correct=True).order_by("problem_id", "ordinal").values_list("problem_id", "code"):
        solutions.setdefault(pid, code)
    inputs = []
    for p in problems:
        t = tests.get(p.pk, [])
        code = solutions.get(p.pk, "")
        inputs.append(ProblemInput(
            id=str(p.pk), title=p.title, statement=p.statement, content_hash=p.content_hash, io_format=p.io_format,
            tags=list(p.tags or []), test_count=len(t), test_input_bytes=[size for _k, size in t],
            sample_count=sum(1 for k, _s in t if k == "sample"), solution_length=len(code),
            solution_lines=code.count("\n") + 1 if code else 0, time_limit_ms=p.time_limit_ms,
            memory_limit_mb=p.memory_limit_mb, source=p.source.name, platform=p.platform,
        ))
    return inputs


# --- the prediction cache, backed by Prediction rows ------------------------------------


class DatabasePredictionCache:
    """Looks up earlier ok predictions by (content hash, model, rubric version, prompt version)."""

    def __init__(self) -> None:
        self.pending: dict[CacheKey, PredictionResult] = {}

    def get_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, PredictionResult]:
        if not keys:
            return {}
        hashes = {k.content_hash for k in keys}
        wanted = set(keys)
        found: dict[CacheKey, PredictionResult] = {}
        rows = Prediction.objects.filter(content_hash__in=hashes, status="ok").select_related("rubric").order_by("-created_at")
        for row in rows:
            key = CacheKey(row.content_hash, row.model, row.rubric.version, row.prompt_version)
            if key in wanted and key not in found:
                found[key] = PredictionResult(
                    problem_id=str(row.problem_id), status="ok", scores={d: int(getattr(row, f"score_{d}")) for d in DIMENSIONS},
                    reasons=row.reasons, weighted_score=row.weighted_score, predictor=row.predictor, model=row.model,
                    rubric_version=row.rubric.version, prompt_version=row.prompt_version, content_hash=row.content_hash, cached=True,
                )
        return found

    def set(self, key: CacheKey, result: PredictionResult) -> None:
        # Stored as Prediction rows by `_store_predictions`; nothing extra to keep.
        self.pending[key] = result


def _predictor(params: dict, rubric: Rubric):
    kind = params.get("predictor") or ("llm" if settings.LLM_BASE_URL and settings.LLM_MODEL else "features")
    if kind == "llm":
        from curation.difficulty.predictors.llm import LLMPredictor

        return LLMPredictor(llm_config(params), rubric, cache=DatabasePredictionCache())
    if kind == "features":
        row = DifficultyModel.objects.filter(kind="features", is_active=True).first()
        if row is None:
            raise DifficultyError("no features model trained yet: run `manage.py train_difficulty_model` first")
        model = features_core.FeatureModel.from_dict(row.params)
        predictor = features_core.FeaturePredictor(model, rubric)
        predictor.model_version = row.version
        return predictor
    raise DifficultyError(f"unknown predictor '{kind}' (llm or features)")


def _store_predictions(run: StageRun, rubric_row: DifficultyRubric, problems: dict[str, Problem],
                       results: list[PredictionResult]) -> tuple[int, list[PredictionResult]]:
    """Store every result as a Prediction row; (ok count, the failed results)."""
    ok = 0
    failed = []
    rows = []
    updated = []
    for r in results:
        problem = problems[r.problem_id]
        rows.append(Prediction(
            problem=problem, rubric=rubric_row, stage_run=run, predictor=r.predictor, model=r.model,
            prompt_version=r.prompt_version, content_hash=problem.content_hash, status=r.status,
            weighted_score=r.weighted_score, reasons=r.reasons, error=r.error[:2000],
            prompt_tokens=r.prompt_tokens, completion_tokens=r.completion_tokens, attempts=max(1, r.attempts),
            **{f"score_{d}": r.scores.get(d) for d in DIMENSIONS},
        ))
        if r.ok:
            ok += 1
            for d in DIMENSIONS:
                setattr(problem, f"score_{d}", r.scores[d])
            problem.weighted_score = r.weighted_score
            updated.append(problem)
        else:
            # A failed prediction is recorded as failed — never replaced by a default score.
            failed.append(r)
    with transaction.atomic():
        Prediction.objects.bulk_create(rows)
        Problem.objects.bulk_update(updated, [f"score_{d}" for d in DIMENSIONS] + ["weighted_score"])
    return ok, failed


def _predict_batch(predictor, batch: list[Problem], failures: ProblemFailures) -> list[PredictionResult]:
    """Predictors answer per problem and never raise for one bad answer; should one raise anyway
    (a problem its features cannot be computed for), the batch is redone problem by problem so
    only that problem fails."""
    try:
        return predictor.predict_many(problem_inputs(batch))
    except Exception:  # noqa: BLE001
        results = []
        for problem in batch:
            ok, result = failures.attempt(problem.pk, lambda p=problem: predictor.predict_many(problem_inputs([p]))[0])
            if ok:
                results.append(result)
        return results


def predict_execute(run: StageRun) -> None:
    rubric_row = rubric_active()
    rubric = rubric_core(rubric_row)
    predictor = _predictor(run.params, rubric)
    ids = run.params.get("problem_ids")
    qs = Problem.objects.select_related("source").order_by("pk")
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    run_start(run, total=qs.count())
    counts = {"ok": 0, "failed": 0, "cached": 0, "predictor": getattr(predictor, "name", "")}
    run.counts = counts
    failures = ProblemFailures(run, "prediction")
    last = 0
    while True:
        batch = list(qs.filter(pk__gt=last)[:BATCH_SIZE])
        if not batch:
            break
        last = batch[-1].pk
        results = _predict_batch(predictor, batch, failures)
        for r in results:
            r.predictor = r.predictor or predictor.name
            r.model = r.model or getattr(predictor, "model_version", "") or getattr(getattr(predictor, "config", None), "model", "")
            r.rubric_version = rubric.version
        ok, failed = _store_predictions(run, rubric_row, {str(p.pk): p for p in batch}, results)
        for r in failed:
            failures.record(int(r.problem_id), r.error)
        failures.clear([int(r.problem_id) for r in results if r.ok])
        counts["ok"] += ok
        counts["cached"] += sum(1 for r in results if r.cached)
        tokens = Prediction.objects.filter(stage_run=run).aggregate(p=Sum("prompt_tokens"), c=Sum("completion_tokens"))
        StageRun.objects.filter(pk=run.pk).update(counts=counts)
        run_progress(run, done=run.done + len(batch), prompt_tokens=tokens["p"] or 0, completion_tokens=tokens["c"] or 0)
    run.save(update_fields=["counts", "errors"])


# --- the features model -----------------------------------------------------------------


def training_label(problem: Problem) -> str | None:
    """easy/medium/hard from the source: LeetCode labels, Codeforces letters (A/B easy, C/D medium, E+ hard)."""
    label = features_core.normalise_label(problem.difficulty_label)
    if label:
        return label
    if problem.platform == "codeforces" and problem.problem_index:
        return features_core.label_from_index(problem.problem_index)
    return None


def features_model_train(*, user=None, version: str | None = None) -> DifficultyModel:
    problems = list(Problem.objects.select_related("source").order_by("pk"))
    labelled = [(p, training_label(p)) for p in problems]
    labelled = [(p, lab) for p, lab in labelled if lab]
    if len(labelled) < 10:
        raise DifficultyError(f"need at least 10 problems with a difficulty label, found {len(labelled)}")
    inputs = []
    for start in range(0, len(labelled), 500):
        inputs.extend(problem_inputs([p for p, _ in labelled[start:start + 500]]))
    model = features_core.train(inputs, [lab for _, lab in labelled])
    version = version or f"features-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}"
    with transaction.atomic():
        DifficultyModel.objects.filter(kind="features", is_active=True).update(is_active=False)
        row = DifficultyModel.objects.create(
            version=version, kind="features", params=model.to_dict(), cv_accuracy=model.cv_accuracy,
            cv_accuracy_std=model.cv_accuracy_std, n_train=model.n_train, label_counts=model.label_counts, is_active=True,
        )
        audit_event_record(actor=user, action="difficulty_model_train", target=row, after={"cv_accuracy": model.cv_accuracy, "n_train": model.n_train})
    return row


def train_features_execute(run: StageRun) -> None:
    run_start(run, total=1)
    row = features_model_train(version=run.params.get("version"))
    run.counts = {"version": row.version, "cv_accuracy": row.cv_accuracy, "n_train": row.n_train, "label_counts": row.label_counts}
    run.save(update_fields=["counts"])
    run_progress(run, done=1)
