"""Calibrate stage: fit the monotone map from weighted score to measured pass rate (pure maths
in `curation.difficulty.calibration`), store it as a versioned Calibration row and re-bucket
every scored problem."""
from __future__ import annotations

import math

from django.db import transaction
from django.db.models import Sum

from curation.difficulty import calibration as calibration_core
from curation.difficulty import selection as selection_core
from curation.difficulty.rubric import weighted_score
from curation.models import DIMENSIONS, Calibration, DifficultyRubric, Problem, StageRun
from curation.services.audit import audit_event_record
from curation.services.runs import ProblemFailures, run_progress, run_start


from curation.services.rubrics import DifficultyError, rubric_active, rubric_core


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
