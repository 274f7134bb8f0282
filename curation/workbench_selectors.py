"""Reads for the calibration workbench and the selection page: evidence rows, the scored pool,
calibration and selection versions. Plain arrays for `curation.difficulty.workbench`.

The what-if runs on every keystroke of a weight, at 100k problems: the evidence and the pool are
loaded once and kept in this process until the data they came from changes (`data_signature`:
one cheap aggregate query per request), so a what-if costs the maths, not the reload.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Count, Sum

from curation.difficulty import workbench as wb
from curation.difficulty import selection as selection_core
from curation.models import (
    DIMENSIONS,
    Calibration,
    PassRateMeasurement,
    Prediction,
    PredictionStatus,
    Problem,
    Review,
    Selection,
)

SCORE_FIELDS = [f"score_{d}" for d in DIMENSIONS]
_lock = threading.Lock()
_cache: dict[str, Any] = {}


def data_signature() -> tuple:
    """Changes whenever the evidence or the pool can have changed: problems added or edited
    (reviews save `updated_at`), new predictions (they rewrite the scores), new or removed pass-rate
    measurements, new reviews. Index-only maxima, no COUNT over the problem table: this runs on
    every what-if. (A problem deleted outright stays in the cached pool until the next change.)"""
    tables = {m.__name__: m._meta.db_table for m in (Problem, Prediction, PassRateMeasurement, Review)}
    # One round trip: this runs before every what-if.
    sql = (
        f'SELECT (SELECT MAX(id) FROM {tables["Problem"]}), (SELECT MAX(updated_at) FROM {tables["Problem"]}),'
        f' (SELECT MAX(id) FROM {tables["Prediction"]}), (SELECT MAX(id) FROM {tables["PassRateMeasurement"]}),'
        f' (SELECT COUNT(*) FROM {tables["PassRateMeasurement"]}), (SELECT MAX(id) FROM {tables["Review"]})'
    )
    with connection.cursor() as cur:
        cur.execute(sql)
        return tuple(str(v) for v in cur.fetchone())


def _load_evidence() -> wb.Evidence:
    per_origin: dict[int, np.ndarray] = {}
    for pid, origin, passes, samples in (
        PassRateMeasurement.objects.values("problem_id", "origin")
        .annotate(p=Sum("passes"), s=Sum("samples")).values_list("problem_id", "origin", "p", "s")
    ):
        row = per_origin.setdefault(pid, np.zeros(4))
        j = 1 if origin == "imported" else 0  # anything not imported was measured here
        row[j] += passes or 0
        row[2 + j] += samples or 0
    ids = sorted(per_origin)
    measured = PassRateMeasurement.objects.values("problem_id")
    problems = {
        r[0]: r for r in Problem.objects.filter(id__in=measured).values_list(
            "id", "title", "source__name", "platform", "io_format", "review_status", *SCORE_FIELDS)
    }
    # The model's own scores: the latest ok prediction (problem scores may carry curator edits).
    model: dict[int, tuple] = {}
    for row in (
        Prediction.objects.filter(status=PredictionStatus.OK, problem_id__in=measured)
        .order_by("problem_id", "-created_at", "-id").values_list("problem_id", *SCORE_FIELDS)
    ):
        model.setdefault(row[0], row[1:])
    ids = [i for i in ids if i in problems]
    n = len(ids)
    current = np.array([[np.nan if v is None else v for v in problems[i][6:]] for i in ids], dtype=float).reshape(n, 5)
    model_scores = np.array(
        [[np.nan if v is None else v for v in model.get(i, problems[i][6:])] for i in ids], dtype=float
    ).reshape(n, 5)
    # A curator's adjustment is where the problem's current score differs from the prediction.
    human = np.where(np.abs(current - model_scores) > 1e-9, current, np.nan)
    counts = np.array([per_origin[i] for i in ids]).reshape(n, 4)
    status = {"accepted": "accepted", "rejected": "rejected"}
    return wb.Evidence(
        ids=np.array(ids, dtype=np.int64), model_scores=model_scores, human_scores=human,
        passes=counts[:, :2], samples=counts[:, 2:],
        source=np.array([problems[i][2] for i in ids], dtype=object),
        platform=np.array([problems[i][3] or "" for i in ids], dtype=object),
        io_format=np.array([problems[i][4] for i in ids], dtype=object),
        decision=np.array([status.get(problems[i][5], "") for i in ids], dtype=object),
        titles=[problems[i][1] for i in ids],
    )


def _load_pool() -> wb.Pool:
    # A bare cursor: 100k rows of six numbers, without a model or tuple layer per row.
    qs = Problem.objects.filter(**{f"{f}__isnull": False for f in SCORE_FIELDS}).order_by("id").values_list("id", *SCORE_FIELDS)
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    arr = np.array(rows, dtype=float).reshape(len(rows), 6)
    return wb.Pool(ids=arr[:, 0].astype(np.int64), scores=arr[:, 1:], source=np.array([], dtype=object))


def workbench_data() -> tuple[wb.Evidence, wb.Pool]:
    sig = data_signature()
    with _lock:
        if _cache.get("signature") == sig:
            return _cache["evidence"], _cache["pool"]
    evidence, pool = _load_evidence(), _load_pool()
    with _lock:
        _cache.update(signature=sig, evidence=evidence, pool=pool)
    return evidence, pool


def workbench_cache_clear() -> None:
    with _lock:
        _cache.clear()


def platform_rating_evidence() -> dict[str, Any]:
    """Platform ratings (e.g. Codeforces 800-3500) are evidence of another kind: shown beside the
    pass rates as a rank correlation with the current weighted score, never pooled with them."""
    rows = list(
        Problem.objects.filter(difficulty_rating__isnull=False, weighted_score__isnull=False)
        .values_list("weighted_score", "difficulty_rating", "platform")
    )
    if not rows:
        return {"problems": 0, "rho": None, "platforms": []}
    x = np.array([r[0] for r in rows], dtype=float)
    y = np.array([r[1] for r in rows], dtype=float)
    rho = wb.spearman(x, y)
    return {"problems": len(rows), "rho": None if np.isnan(rho) else float(rho),
            "platforms": sorted({r[2] or "—" for r in rows})}


def label_rho(evidence: wb.Evidence) -> float | None:
    """The sources' own easy/medium/hard labels against the same pass rates: the yardstick."""
    if not len(evidence):
        return None
    labels = dict(Problem.objects.filter(pk__in=evidence.ids.tolist()).values_list("id", "difficulty_label"))
    rates = evidence.pass_rate()
    return wb.rank_label_rho([str(labels.get(int(i), "")).lower() for i in evidence.ids], rates.tolist())


# --- versions ------------------------------------------------------------------------------


def calibration_versions(limit: int = 50) -> list[Calibration]:
    return list(Calibration.objects.select_related("rubric", "created_by").order_by("-created_at", "-id")[:limit])


def calibration_active() -> Calibration | None:
    return Calibration.objects.filter(is_active=True).select_related("rubric").order_by("-created_at").first()


def calibration_get(pk: int) -> Calibration:
    return Calibration.objects.select_related("rubric", "created_by").get(pk=pk)


def selection_versions(limit: int = 50) -> list[Selection]:
    return list(
        Selection.objects.filter(version__isnull=False).select_related("created_by", "calibration")
        .annotate(n=Count("problems")).order_by("-version")[:limit]
    )


def selection_current() -> Selection | None:
    return Selection.objects.filter(is_current=True).order_by("-created_at").first()


def selection_items() -> list[selection_core.SelectionItem]:
    """The candidates a policy decides on: neither a duplicate, nor contaminated, nor a benchmark."""
    qs = Problem.objects.filter(is_duplicate=False, is_contaminated=False, is_benchmark=False).order_by("pk")
    return [
        selection_core.SelectionItem(id=str(pk), pass_rate=rate, source=source, platform=platform or "")
        for pk, rate, source, platform in qs.values_list("pk", "calibrated_pass_rate", "source__name", "platform")
    ]


def problem_titles(ids: list[int]) -> dict[int, str]:
    return dict(Problem.objects.filter(pk__in=ids).values_list("id", "title"))
