"""Calibration versions saved from the workbench: save (one row + one audit event), activate (a
job: the version's rubric and map become what predictions, buckets and selection use), diff.

The maths is `curation.difficulty.workbench`; the data comes from `curation.workbench_selectors`.
"""
from __future__ import annotations

import math
from typing import Any

from django.db import IntegrityError, transaction

from curation import workbench_selectors as wsel
from curation.errors import FieldError
from curation.difficulty import workbench as wb
from curation.difficulty.rubric import DEFAULT_RUBRIC, DIMENSION_KEYS
from curation.models import Calibration, DifficultyRubric, StageRun
from curation.services.audit import audit_event_record
from curation.services.runs import run_progress, run_start
from curation.services.stages import stage_run_start

WEIGHT_TOLERANCE = 1e-6
METRIC_KEYS = ("n", "rho", "rho_model_scores", "ece", "counts", "evidence_counts", "rho_by", "evidence")


class CalibrationVersionError(FieldError):
    """A version that cannot be saved or activated; ``field`` names the reason."""


def _rubric_for(weights: dict[str, float]) -> DifficultyRubric:
    """The rubric row with these weights (reused when one matches), else a new inactive one."""
    for row in DifficultyRubric.objects.order_by("-created_at"):
        if set(row.weights) == set(weights) and all(abs(float(row.weights[k]) - weights[k]) <= WEIGHT_TOLERANCE for k in weights):
            return row
    base = DifficultyRubric.objects.filter(is_active=True).first()
    n = DifficultyRubric.objects.count() + 1
    return DifficultyRubric.objects.create(
        version=f"{DEFAULT_RUBRIC.version}-wb{n}", weights=weights,
        dimensions=base.dimensions if base else {d.key: d.description for d in DEFAULT_RUBRIC.dimensions},
        prompt_version=base.prompt_version if base else "v1", is_active=False,
    )


def calibration_version_save(*, user, proposal: wb.Proposal, label: str = "",
                             fit: dict[str, Any] | None = None) -> Calibration:
    """Fit the proposal on the current evidence and store it as a new (inactive) version."""
    label = (label or "").strip()
    if len(label) > 200:
        raise CalibrationVersionError("label", "at most 200 characters")
    evidence, pool = wsel.workbench_data()
    result = wb.whatif(evidence, pool, proposal, band=False, max_points=0, disagreement_limit=0)
    if not result["fitted"]:
        raise CalibrationVersionError("evidence", f"a calibration needs at least two problems with evidence and spread in score, found {result['n']}")
    weights = proposal.weights_dict()
    metrics = {k: result[k] for k in METRIC_KEYS}
    if fit:
        metrics["weight_fit"] = {k: fit.get(k) for k in ("rho_in_sample", "rho_cv", "rho_cv_folds", "folds", "chosen")}
    evidence_set = {
        "origins": list(proposal.origins), "use_human": proposal.use_human, "n": result["n"],
        "measured_problems": result["evidence"]["measured"], "imported_problems": result["evidence"]["imported"],
        "data_signature": [str(v) for v in wsel.data_signature()],
    }
    for attempt in range(3):
        try:
            with transaction.atomic():
                rubric = _rubric_for(weights)
                seq = Calibration.objects.count() + 1 + attempt
                row = Calibration.objects.create(
                    version=f"wb{seq}-{proposal.method}"[:32], rubric=rubric, method=proposal.method,
                    fitted={**result["fitted"], "version": f"wb{seq}-{proposal.method}", "rubric_version": rubric.version},
                    weights=weights, bucket_bounds={"easy_min": proposal.easy_min, "hard_max": proposal.hard_max},
                    spearman_rho=result["rho"], reliability=result["reliability"], n_points=result["n"],
                    is_active=False, label=label, evidence=evidence_set, metrics=metrics,
                    created_by=user if getattr(user, "is_authenticated", False) else None,
                )
                audit_event_record(actor=user, action="calibration_version_save", target=row, after={
                    "version": row.version, "label": label, "method": proposal.method, "weights": weights,
                    "bounds": row.bucket_bounds, "evidence": evidence_set, "rho": result["rho"]})
            return row
        except IntegrityError:
            if attempt == 2:  # another save took the same sequence number three times
                raise
    raise AssertionError("unreachable")


def calibration_version_activate(*, user, calibration_id: int) -> StageRun:
    """Start the job that makes this version active and re-buckets every scored problem."""
    if not Calibration.objects.filter(pk=calibration_id).exists():
        raise CalibrationVersionError("calibration_id", f"no calibration {calibration_id}")
    return stage_run_start(stage="calibration_activate", user=user, params={"calibration_id": calibration_id})


def calibration_activate_execute(run: StageRun) -> None:
    from curation.services.calibration import calibration_apply

    row = Calibration.objects.select_related("rubric").get(pk=run.params["calibration_id"])
    run_start(run, total=1)
    with transaction.atomic():
        before = Calibration.objects.filter(is_active=True).values_list("version", flat=True).first()
        Calibration.objects.filter(is_active=True).exclude(pk=row.pk).update(is_active=False)
        DifficultyRubric.objects.filter(is_active=True).exclude(pk=row.rubric_id).update(is_active=False)
        Calibration.objects.filter(pk=row.pk).update(is_active=True)
        DifficultyRubric.objects.filter(pk=row.rubric_id).update(is_active=True)
        audit_event_record(actor=run.created_by, action="calibration_version_activate", target=row,
                           before={"active": before}, after={"active": row.version})
    # Outside the flag transaction: rewriting 100k problems' buckets is batched, and a reader in
    # between sees the new version with a mix of old and new buckets only for those seconds.
    n = calibration_apply(row)
    wsel.workbench_cache_clear()
    run.counts = {"calibration": row.version, "problems": n}
    run.save(update_fields=["counts"])
    run_progress(run, done=1)


def _num(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def calibration_version_diff(a: Calibration, b: Calibration) -> dict[str, Any]:
    """What changed from version a to version b: weights, method, bounds, evidence, metrics."""
    weights = []
    for k in DIMENSION_KEYS:
        wa, wb_ = float(a.weights.get(k, 0.0)), float(b.weights.get(k, 0.0))
        weights.append({"dimension": k, "a": round(wa, 4), "b": round(wb_, 4), "delta": round(wb_ - wa, 4)})
    counts_a = (a.metrics or {}).get("counts", {})
    counts_b = (b.metrics or {}).get("counts", {})
    rho_a, rho_b = _num(a.spearman_rho), _num(b.spearman_rho)
    return {
        "a": a.version, "b": b.version,
        "weights": weights,
        "fields": [
            {"name": "method", "a": a.method, "b": b.method},
            {"name": "rubric", "a": a.rubric.version, "b": b.rubric.version},
            {"name": "easy ≥", "a": a.bucket_bounds.get("easy_min"), "b": b.bucket_bounds.get("easy_min")},
            {"name": "hard <", "a": a.bucket_bounds.get("hard_max"), "b": b.bucket_bounds.get("hard_max")},
            {"name": "evidence origins", "a": ", ".join((a.evidence or {}).get("origins", [])), "b": ", ".join((b.evidence or {}).get("origins", []))},
            {"name": "human evidence", "a": (a.evidence or {}).get("use_human"), "b": (b.evidence or {}).get("use_human")},
            {"name": "problems with evidence", "a": a.n_points, "b": b.n_points},
            {"name": "Spearman ρ", "a": rho_a, "b": rho_b},
            {"name": "ECE", "a": (a.metrics or {}).get("ece"), "b": (b.metrics or {}).get("ece")},
        ],
        "rho_delta": None if rho_a is None or rho_b is None else round(rho_b - rho_a, 4),
        "counts": [{"bucket": k, "a": counts_a.get(k), "b": counts_b.get(k)} for k in ("easy", "medium", "hard", "unscored")],
    }
