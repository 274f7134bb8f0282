"""Reads of training_jobs: run lists and pages, metric series for the charts, comparisons."""
from __future__ import annotations

from collections import defaultdict

from django.db.models import QuerySet

from curation.services.snapshots import snapshot_diff
from training_jobs.metrics import HEADLINE, downsample
from training_jobs.models import ComputeTarget, MetricPoint, TrainingRun

SERIES_POINTS = 500


def training_run_list() -> QuerySet[TrainingRun]:
    return TrainingRun.objects.select_related("train_snapshot", "target", "recipe", "created_by").order_by("-created_at")


def training_run_get(run_id: int) -> TrainingRun:
    return training_run_list().get(pk=run_id)


def compute_target_list() -> QuerySet[ComputeTarget]:
    return ComputeTarget.objects.filter(is_enabled=True).order_by("name")


def metric_keys(run_ids: list[int]) -> list[str]:
    keys = set(MetricPoint.objects.filter(run_id__in=run_ids).values_list("key", flat=True).distinct())
    head = [k for k in HEADLINE if k in keys]
    return head + sorted(keys - set(head))


def metric_series(run: TrainingRun, keys: list[str] | None = None, limit: int = SERIES_POINTS) -> dict[str, list]:
    """{key: [[step, value], ...]} for one run; where attempts overlap (a retry resumed at an
    earlier step), the later attempt's value wins. Downsampled to `limit` points per key."""
    rows = MetricPoint.objects.filter(run=run)
    if keys:
        rows = rows.filter(key__in=keys)
    by_key: dict[str, dict[int, float]] = defaultdict(dict)
    for key, step, value in rows.order_by("attempt__number", "step").values_list("key", "step", "value").iterator():
        by_key[key][step] = value
    return {key: [list(p) for p in downsample(sorted(points.items()), limit)] for key, points in by_key.items()}


def compare_data(runs: list[TrainingRun]) -> dict:
    """Curves of several runs on shared axes, plus the snapshot diff of the first two."""
    keys = metric_keys([r.pk for r in runs])
    data = {
        "keys": keys,
        "runs": [{"id": r.pk, "name": r.name, "snapshot": str(r.train_snapshot), "status": r.status,
                  "series": metric_series(r, keys)} for r in runs],
    }
    diff = None
    if len(runs) >= 2 and runs[0].train_snapshot_id != runs[1].train_snapshot_id:
        diff = snapshot_diff(runs[0].train_snapshot, runs[1].train_snapshot)
    return {"chart": data, "diff": diff}
