"""Reads for the pipeline page: what a stage would touch with given options, whether what it needs
is there, and a finished run's problem errors grouped by reason with plain-words explanations.

Counts follow what each executor actually selects (services/processing.py, verification.py,
prediction.py, pass_rates.py, checkers.py, calibration.py, selection.py); keep them in step.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.db.models import Q

from curation.models import (
    Calibration,
    DifficultyModel,
    PassRateMeasurement,
    ProcessStatus,
    Problem,
    StageRun,
    VerificationStatus,
)
from curation.errors import error_explain
from curation.pipeline import Stage

CHECKER_CANDIDATES = (VerificationStatus.NEEDS_CHECKER, VerificationStatus.TESTS_INCONSISTENT)
CALIBRATION_MIN_POINTS = 5  # calibration_fit refuses fewer


@dataclass
class Touch:
    count: int
    what: str  # "problems", said in the stage's terms
    detail: str = ""


@dataclass
class Prerequisite:
    label: str
    ok: bool
    detail: str
    blocking: bool = True  # False: a warning; the stage can still start


@dataclass
class StageState:
    stage: Stage
    touch: Touch
    prerequisites: list[Prerequisite] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(p.blocking and not p.ok for p in self.prerequisites)

    @property
    def warnings(self) -> list[Prerequisite]:
        return [p for p in self.prerequisites if not p.ok and not p.blocking]


def _llm_configured(params: dict) -> bool:
    return bool((params.get("base_url") or settings.LLM_BASE_URL) and (params.get("model") or settings.LLM_MODEL))


class StoreFacts:
    """The counts the panels need, each read once (lazily) and shared by every panel of one page
    render: a dozen indexed counts, whatever the number of stages."""

    def __init__(self) -> None:
        self.problems = Problem.objects.all()

    @cached_property
    def total(self) -> int:
        return self.problems.count()

    @cached_property
    def unverified(self) -> int:
        return self.problems.filter(verification_status=VerificationStatus.UNVERIFIED).count()

    @cached_property
    def verified(self) -> int:
        return self.problems.filter(verification_status=VerificationStatus.VERIFIED).count()

    @cached_property
    def processed(self) -> int:
        return self.problems.filter(process_status=ProcessStatus.OK).count()

    @cached_property
    def checker_candidates(self) -> int:
        return self.problems.filter(verification_status__in=CHECKER_CANDIDATES).count()

    @cached_property
    def scored(self) -> int:
        return self.problems.filter(weighted_score__isnull=False).count()

    @cached_property
    def measured(self) -> int:
        return PassRateMeasurement.objects.values("problem").distinct().count()

    @cached_property
    def calibration_points(self) -> int:
        """Problems calibration would fit on (calibration_data: a score and summed samples > 0;
        samples are never negative, so "some measurement with samples > 0" is the same set),
        counted from the measurements' side: their problem index, not a scan of every problem."""
        return (PassRateMeasurement.objects.filter(samples__gt=0, problem__weighted_score__isnull=False)
                .values("problem").distinct().count())

    @cached_property
    def calibrated(self) -> int:
        return self.problems.filter(calibrated_pass_rate__isnull=False).count()

    @cached_property
    def select_candidates(self) -> int:
        """Calibrated problems selection may keep: all calibrated ones less the flagged few
        (duplicate, contaminated, benchmark), counted on their indexes instead of a full scan."""
        flagged = self.problems.filter(Q(is_duplicate=True) | Q(is_contaminated=True) | Q(is_benchmark=True),
                                       calibrated_pass_rate__isnull=False).count()
        return self.calibrated - flagged

    @cached_property
    def active_calibration(self) -> bool:
        return Calibration.objects.filter(is_active=True).exists()

    @cached_property
    def features_model(self) -> bool:
        return DifficultyModel.objects.filter(kind="features", is_active=True).exists()


def stage_touch(stage: Stage, params: dict, step: str = "", facts: StoreFacts | None = None) -> Touch:
    """How many problems the stage would act on, run from the pipeline page (all problems) with
    these options."""
    f = facts or StoreFacts()
    name = stage.name
    if name == "process":
        return Touch(f.total, "problems", f"{step or 'every step'} on each")
    if name == "verify":
        return Touch(f.total, "problems re-judged", f"{f.unverified} not verified yet")
    if name == "predict":
        return Touch(f.total, "problems scored", "unchanged problems reuse their cached prediction")
    if name == "measure":
        size = params.get("sample_size")
        count = min(f.total, int(size)) if size else f.total
        k = int(params.get("k", 4))
        return Touch(count, "problems sampled", f"{k} solutions each = {count * k} judged")
    if name == "checkers":
        return Touch(f.checker_candidates, "problems needing a checker or with inconsistent tests")
    if name == "calibrate":
        return Touch(f.scored, "scored problems re-bucketed", f"fitted on {f.calibration_points} problems with scores and pass rates")
    if name == "select":
        return Touch(f.select_candidates, "calibrated candidates", "duplicates, contaminated and benchmark problems are left out")
    return Touch(f.total, "problems")


def _endpoint(params: dict) -> Prerequisite:
    ok = _llm_configured(params)
    return Prerequisite("Model endpoint", ok, "configured" if ok else "set LLM_BASE_URL and LLM_MODEL, or give base URL and model")


def stage_prerequisites(stage: Stage, params: dict, facts: StoreFacts | None = None) -> list[Prerequisite]:
    """What the stage needs first, checked against the data (not just "did the earlier stage run"):
    a blocking one disables the start button; a warning is shown next to it."""
    f = facts or StoreFacts()
    name = stage.name
    out = [Prerequisite("Problems imported", f.total > 0, f"{f.total} problems" if f.total else "import problems first")]
    if name in ("verify", "predict"):
        out.append(Prerequisite("Processed", f.processed > 0,
                                f"{f.processed} of {f.total} processed" if f.processed else "run Process first (samples and tests)",
                                blocking=False))
    if name == "measure":
        out.append(Prerequisite("Verified", f.verified > 0,
                                f"{f.verified} verified" if f.verified else "run Verify first: unverified tests judge answers wrongly",
                                blocking=False))
        out.append(_endpoint(params))
    if name == "predict":
        predictor = params.get("predictor") or ("llm" if _llm_configured({}) else "features")
        if predictor == "llm":
            out.append(_endpoint(params))
        else:
            out.append(Prerequisite("Features model", f.features_model,
                                    "trained" if f.features_model else "run `manage.py train_difficulty_model` first, or use the llm predictor"))
    if name == "checkers":
        out.append(_endpoint({}))
    if name == "calibrate":
        out.append(Prerequisite("Predictions", f.scored > 0, f"{f.scored} problems scored" if f.scored else "run Predict first"))
        out.append(Prerequisite("Pass-rate evidence", f.measured > 0,
                                f"{f.measured} problems measured" if f.measured else "run Measure or import a graded file below"))
        out.append(Prerequisite(f"At least {CALIBRATION_MIN_POINTS} problems with both", f.calibration_points >= CALIBRATION_MIN_POINTS,
                                f"{f.calibration_points} problems have both"))
    if name == "select":
        out.append(Prerequisite("Active calibration", f.active_calibration, "active" if f.active_calibration else "run Calibrate first"))
        out.append(Prerequisite("Calibrated problems", f.calibrated > 0, f"{f.calibrated} calibrated" if f.calibrated else "none yet"))
    return out


def stage_state(stage: Stage, params: dict | None = None, step: str = "", facts: StoreFacts | None = None) -> StageState:
    params = params or {}
    facts = facts or StoreFacts()
    return StageState(stage, stage_touch(stage, params, step, facts), stage_prerequisites(stage, params, facts))


def stage_last_runs(stage_names: list[str]) -> dict[str, StageRun]:
    """The latest run of each stage (one query per stage: a handful of indexed lookups)."""
    out = {}
    for name in stage_names:
        run = StageRun.objects.filter(stage=name).select_related("created_by").order_by("-created_at").first()
        if run is not None:
            out[name] = run
    return out


# --- results ---------------------------------------------------------------------------------

def _group_key(reason: str) -> str:
    # Ids and numbers differ from problem to problem; the reason is the same.
    return re.sub(r"\d+", "#", reason)


_PROBLEM_RE = re.compile(r"^problem (\d+)$")


def run_error_groups(run, limit_per_group: int = 50) -> list[dict]:
    """A run's errors grouped by reason (most frequent first), each with the problems it hit
    (id and title, for links) and the step that recorded it."""
    groups: dict[tuple[str, str], dict] = {}
    ids: set[int] = set()
    for error in run.errors or []:
        if not isinstance(error, dict):
            error = {"message": str(error)}
        reason, detail = error_explain(error.get("message", ""))
        key = (str(error.get("field", "")), _group_key(reason))
        group = groups.setdefault(key, {"step": key[0], "reason": reason, "detail": detail, "count": 0,
                                        "problems": [], "records": []})
        group["count"] += 1
        match = _PROBLEM_RE.match(str(error.get("record", "")))
        if match:
            pid = int(match.group(1))
            if len(group["problems"]) < limit_per_group:
                group["problems"].append(pid)
                ids.add(pid)
        elif error.get("record") and len(group["records"]) < limit_per_group:
            group["records"].append(str(error["record"]))
    titles = dict(Problem.objects.filter(pk__in=ids).values_list("pk", "title"))
    out = sorted(groups.values(), key=lambda g: -g["count"])
    for group in out:
        group["problems"] = [{"id": pid, "title": titles.get(pid), "exists": pid in titles} for pid in group["problems"]]
    return out


def run_outcome(run) -> dict:
    """succeeded / partial / failed in words, with the problem failure count (counts.failed)."""
    failed = getattr(run, "failed_count", 0) or 0
    if run.status == "partial":
        return {"label": "Partial", "text": f"finished; {failed} problem{'s' if failed != 1 else ''} failed and were skipped"
                if failed else "finished with errors"}
    if run.status == "failed":
        # The whole-run failure is the last error that names no record (stage_run_execute).
        whole = [e for e in (run.errors or []) if isinstance(e, dict) and not e.get("record")]
        reason = error_explain(whole[-1].get("message", "") if whole else run.message)[0] if (whole or run.message) else ""
        return {"label": "Failed", "text": f"stopped: {reason}" if reason else "stopped"}
    if run.status == "succeeded":
        return {"label": "Succeeded", "text": "finished without errors"}
    return {"label": run.get_status_display(), "text": ""}


_HIDDEN_COUNTS = {"child_run", "snapshot", "version", "unmatched_ids", "failed"}


def _shown(value) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def run_count_rows(run) -> list[dict]:
    """A stage run's counts as rows to show (verification outcomes, a process run's per-step
    figures, an import's matched/unmatched), each verification outcome linked to its filter.
    `failed` is shown with the errors, not here."""
    counts = run.counts if isinstance(run.counts, dict) else {}
    statuses = set(VerificationStatus.values)
    rows = []
    for key, value in counts.items():
        if key in _HIDDEN_COUNTS:
            continue
        if isinstance(value, dict):
            for sub, sub_value in value.items():
                if sub != "failed" and isinstance(sub_value, (int, float, str)) and not isinstance(sub_value, bool):
                    rows.append({"label": f"{key} · {sub}".replace("_", " "), "value": _shown(sub_value), "filter": ""})
            continue
        if isinstance(value, (list, tuple)) or isinstance(value, bool) or value is None:
            continue
        link = f"verification_status={key}" if run.stage == "verify" and key in statuses else ""
        rows.append({"label": key.replace("_", " "), "value": _shown(value), "filter": link})
    return rows
