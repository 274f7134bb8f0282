"""Difficulty stage (stage 3): predict, measure pass rates, calibrate, select.

The maths lives in `curation.difficulty` (pure Python); this module maps rows to its plain
records and stores what comes back: Prediction rows (and the problem's current scores),
PassRateMeasurement rows, versioned Calibration rows, and Selection rows.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from curation.errors import DomainError
from curation.difficulty import calibration as calibration_core
from curation.difficulty import passrate as passrate_core
from curation.difficulty import selection as selection_core
from curation.difficulty.predictors import features as features_core
from curation.difficulty.predictors.base import CacheKey, PredictionResult, ProblemInput
from curation.difficulty.rubric import DEFAULT_RUBRIC, Rubric, weighted_score
from curation.llm.client import LLMClient
from curation.llm.conf import llm_config
from curation.llm.prompts import problem_instruction, solve_messages
from curation.models import (
    DIMENSIONS,
    Calibration,
    DifficultyModel,
    DifficultyRubric,
    PassRateMeasurement,
    Prediction,
    Problem,
    ReferenceSolution,
    Selection,
    StageRun,
    TestCase,
)
from curation.selectors import problem_judge_spec
from curation.services.audit import audit_event_record
from curation.services.runs import ProblemFailures, run_progress, run_start

BATCH_SIZE = 100


class DifficultyError(DomainError):
    """A request the difficulty stage cannot serve (no model trained, no data to calibrate...)."""


# --- rubric -----------------------------------------------------------------------------


def rubric_active() -> DifficultyRubric:
    """The active rubric row; the default rubric (v1) is created on first use."""
    row = DifficultyRubric.objects.filter(is_active=True).order_by("-created_at").first()
    if row is None:
        row, _ = DifficultyRubric.objects.get_or_create(
            version=DEFAULT_RUBRIC.version,
            defaults={"dimensions": {d.key: d.description for d in DEFAULT_RUBRIC.dimensions},
                      "weights": dict(DEFAULT_RUBRIC.weights), "is_active": True},
        )
    return row


def rubric_core(row: DifficultyRubric) -> Rubric:
    return DEFAULT_RUBRIC.with_weights(row.weights, row.version)


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


# --- calibration ------------------------------------------------------------------------


def _calibration_point(problem: Problem) -> float:
    """The problem's measured pass rate, after checking it can be a calibration point."""
    if not math.isfinite(problem.weighted_score):
        raise ValueError(f"weighted_score is {problem.weighted_score}")
    if not 0 <= problem.passes <= problem.samples:
        raise ValueError(f"pass_rates: {problem.passes} passes out of {problem.samples} samples")
    return problem.passes / problem.samples


def calibration_data(failures: ProblemFailures | None = None) -> tuple[list[Problem], list[float], list[int]]:
    """Problems with a weighted score and at least one pass-rate measurement, pooled over models.
    A problem whose data cannot be a point (e.g. more passes than samples) is left out, and
    recorded when `failures` is given."""
    candidates = list(
        Problem.objects.filter(weighted_score__isnull=False)
        .annotate(samples=Sum("pass_rates__samples"), passes=Sum("pass_rates__passes"))
        .filter(samples__gt=0)
        .order_by("pk")
    )
    problems, rates = [], []
    for p in candidates:
        try:
            rates.append(_calibration_point(p))
        except (ValueError, TypeError, ZeroDivisionError) as exc:
            if failures is not None:
                failures.record(p.pk, exc)
            continue
        problems.append(p)
    weights = [p.samples for p in problems]
    return problems, rates, weights


def calibration_fit(*, method: str = "isotonic", refit_weights: bool = False, user=None,
                    failures: ProblemFailures | None = None) -> Calibration:
    rubric_row = rubric_active()
    rubric = rubric_core(rubric_row)
    problems, rates, weights = calibration_data(failures)
    if len(problems) < 5:
        raise DifficultyError(f"calibration needs at least 5 problems with scores and measured pass rates, found {len(problems)}")
    with transaction.atomic():
        weight_fit = None
        if refit_weights:
            dims = [{d: getattr(p, f"score_{d}") for d in DIMENSIONS} for p in problems]
            weight_fit = calibration_core.refit_weights(dims, rates, rubric)
            new_version = f"{rubric_row.version}-refit{DifficultyRubric.objects.count()}"
            DifficultyRubric.objects.filter(is_active=True).update(is_active=False)
            rubric_row = DifficultyRubric.objects.create(
                version=new_version, dimensions=rubric_row.dimensions, weights=weight_fit.weights,
                prompt_version=rubric_row.prompt_version, is_active=True,
            )
            rubric = rubric_core(rubric_row)
            for p in problems:
                p.weighted_score = weighted_score({d: getattr(p, f"score_{d}") for d in DIMENSIONS}, rubric)
        scores = [p.weighted_score for p in problems]
        fitted = calibration_core.fit_calibration(scores, rates, method=method, sample_weight=weights, rubric_version=rubric.version)
        predicted = fitted.predict_many(scores)
        curve = calibration_core.reliability_curve(predicted, rates)
        thresholds = selection_core.BucketThresholds()
        Calibration.objects.filter(is_active=True).update(is_active=False)
        version = fitted.version
        if Calibration.objects.filter(version=version).exists():
            version = f"{version}-{Calibration.objects.count()}"
        row = Calibration.objects.create(
            version=version, rubric=rubric_row, method=method, fitted=fitted.to_dict(), weights=dict(rubric.weights),
            bucket_bounds={"easy_min": thresholds.easy_min, "hard_max": thresholds.hard_max},
            spearman_rho=fitted.spearman_rho, reliability=curve, n_points=len(problems), is_active=True,
        )
        if weight_fit is not None:
            row.fitted = {**row.fitted, "weight_fit": {"spearman_before": weight_fit.spearman_before, "spearman_after": weight_fit.spearman_after, "chosen": weight_fit.chosen}}
            row.save(update_fields=["fitted"])
        calibration_apply(row, failures=failures)
        audit_event_record(actor=user, action="calibration_fit", target=row, after={"method": method, "rho": fitted.spearman_rho, "n": len(problems)})
    return row


def calibration_apply(row: Calibration, *, batch: int = 2000, failures: ProblemFailures | None = None) -> int:
    """Recompute every scored problem's weighted score (under the calibration's rubric),
    calibrated pass rate and bucket. A problem whose scores cannot be weighted (a dimension
    missing) keeps its old values and is recorded when `failures` is given."""
    fitted = calibration_core.Calibration.from_dict(row.fitted)
    rubric = rubric_core(row.rubric)
    thresholds = selection_core.BucketThresholds(**row.bucket_bounds) if row.bucket_bounds else selection_core.BucketThresholds()
    qs = Problem.objects.filter(score_algorithmic_thinking__isnull=False).order_by("pk")
    n = 0
    last = 0
    fields = [f"score_{d}" for d in DIMENSIONS]
    while True:
        problems = list(qs.filter(pk__gt=last).only("pk", "weighted_score", *fields)[:batch])
        if not problems:
            return n
        last = problems[-1].pk
        scored = []
        for p in problems:
            try:
                p.weighted_score = weighted_score({d: getattr(p, f"score_{d}") for d in DIMENSIONS}, rubric)
            except (ValueError, TypeError) as exc:
                if failures is None:
                    raise
                failures.record(p.pk, exc)
                continue
            scored.append(p)
        problems = scored
        rates = fitted.predict_many([p.weighted_score for p in problems])
        for p, rate in zip(problems, rates):
            p.calibrated_pass_rate = rate
            p.bucket = thresholds.bucket(rate)
        Problem.objects.bulk_update(problems, ["weighted_score", "calibrated_pass_rate", "bucket"])
        n += len(problems)


def calibrate_execute(run: StageRun) -> None:
    run_start(run, total=1)
    run.counts = {"failed": 0}
    failures = ProblemFailures(run, "calibrate")
    row = calibration_fit(method=run.params.get("method", "isotonic"), refit_weights=bool(run.params.get("refit_weights")),
                          failures=failures)
    run.counts.update({"calibration": row.version, "spearman_rho": row.spearman_rho, "n_points": row.n_points})
    run.save(update_fields=["counts", "errors"])
    run_progress(run, done=1)


# --- selection --------------------------------------------------------------------------


def selection_policy(params: dict):
    if params.get("policy", "target_easy_share") == "cutoff":
        return selection_core.CutoffPolicy(max_pass_rate=float(params.get("max_pass_rate", 0.8)))
    return selection_core.TargetEasySharePolicy(target_easy_share=float(params.get("target_easy_share", 0.2)))


def _selection_item(pk, rate, source, platform, score) -> selection_core.SelectionItem:
    for name, value in (("calibrated_pass_rate", rate), ("weighted_score", score)):
        if value is not None and not math.isfinite(value):
            raise ValueError(f"{name} is {value}")
    if rate is not None and not 0 <= rate <= 1:
        raise ValueError(f"calibrated_pass_rate {rate} is outside [0, 1]")
    return selection_core.SelectionItem(id=str(pk), pass_rate=rate, source=source, platform=platform, weighted_score=score)


def _selection_items(problem_ids: list[int] | None, failures: ProblemFailures | None = None) -> list[selection_core.SelectionItem]:
    """The candidates; a problem whose numbers cannot be bucketed is left out (and recorded when
    `failures` is given) instead of failing the selection."""
    qs = Problem.objects.filter(is_duplicate=False, is_contaminated=False, is_benchmark=False)
    if problem_ids is not None:
        qs = qs.filter(pk__in=problem_ids)
    items = []
    for row in qs.order_by("pk").values_list("pk", "calibrated_pass_rate", "source__name", "platform", "weighted_score"):
        try:
            items.append(_selection_item(*row))
        except ValueError as exc:
            if failures is not None:
                failures.record(row[0], exc)
    return items


def _thresholds() -> selection_core.BucketThresholds:
    row = Calibration.objects.filter(is_active=True).first()
    return selection_core.BucketThresholds(**row.bucket_bounds) if row and row.bucket_bounds else selection_core.BucketThresholds()


def selection_preview(params: dict, problem_ids: list[int] | None = None) -> dict:
    """What a policy keeps, by bucket, source and platform — nothing is stored."""
    return selection_core.preview(_selection_items(problem_ids), selection_policy(params), _thresholds())


def selection_apply(*, name: str, params: dict, problem_ids: list[int] | None = None, user=None,
                    failures: ProblemFailures | None = None) -> Selection:
    items = _selection_items(problem_ids, failures)
    result = selection_core.select(items, selection_policy(params), _thresholds())
    with transaction.atomic():
        row = Selection.objects.create(
            name=name, calibration=Calibration.objects.filter(is_active=True).first(), policy=params,
            preview=result.summary(), created_by=user,
        )
        row.problems.add(*[int(i) for i in result.kept_ids])
        audit_event_record(actor=user, action="selection_apply", target=row, after={"kept": len(result.kept_ids), "policy": params})
    return row


def select_execute(run: StageRun) -> None:
    run_start(run, total=1)
    run.counts = {"failed": 0}
    failures = ProblemFailures(run, "select")
    row = selection_apply(name=run.params.get("name") or f"selection-{run.pk}", params=run.params,
                          problem_ids=run.params.get("problem_ids"), failures=failures)
    run.counts.update({"selection": row.pk, "summary": row.preview})
    run.save(update_fields=["counts", "errors"])
    run_progress(run, done=1)
