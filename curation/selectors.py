"""Reads: querysets and aggregates for views and the API."""
from __future__ import annotations

from django.db.models import Count, QuerySet

from curation.models import ImportRun, Problem


def problem_list(*, search: str = "") -> QuerySet[Problem]:
    qs = Problem.objects.select_related("source").only(
        "id", "title", "platform", "io_format", "difficulty_label", "process_status",
        "verification_status", "bucket", "review_status", "source__name", "external_id",
    )
    if search:
        qs = qs.filter(title__icontains=search)
    return qs.order_by("id")


def problem_counts_by_source() -> list[dict]:
    return list(Problem.objects.values("source__name", "platform").annotate(n=Count("id")).order_by("source__name"))


def import_runs_recent(limit: int = 10) -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("source").order_by("-created_at")[:limit]
