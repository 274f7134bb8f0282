"""The problem filters, shared by the curator workspace and the REST API so that both agree."""
from __future__ import annotations

import django_filters as df
from django import forms
from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from curation.models import (
    DIMENSIONS,
    Bucket,
    IoFormat,
    ProcessStatus,
    Problem,
    ReviewStatus,
    Source,
    VerificationStatus,
)


# Input bounds: a typed filter value is checked here, so a bad one is a message naming the field
# (the workspace shows it, the API answers 400) — never a database error. Text is capped (a
# 100k-character search used to give HTTP 500); scores are 1–10, pass rates 0–1.
TEXT_MAX = 200
SHORT_TEXT_MAX = 100
SCORE_BOUNDS = {"min_value": 0, "max_value": 10}
RATE_BOUNDS = {"min_value": 0, "max_value": 1}
ID_MAX = 2**63 - 1


class ProblemFilterForm(forms.Form):
    """Each `<name>_min` / `<name>_max` pair must not be reversed."""

    def clean(self):
        data = super().clean()
        for name in list(self.fields):
            if not name.endswith("_min"):
                continue
            stem = name[: -len("_min")]
            low, high = data.get(name), data.get(f"{stem}_max")
            if low is not None and high is not None and low > high:
                self.add_error(f"{stem}_max", f"{stem.replace('_', ' ')}: the maximum ({high}) is below the minimum ({low})")
        return data


# Full-text search (PostgreSQL): `search_vector` is a stored generated column (migration 0011) with a
# GIN index; reading it costs nothing per row, so a word found in most statements is as quick as a rare one.
PG_FTS_SQL = "search_vector @@ websearch_to_tsquery('english'::regconfig, %s)"
PG_TRGM_WHERE = "title %% %s"  # pg_trgm similarity on titles: catches typos and partial words


def text_search(queryset, value: str):
    """Problems whose title, statement, tags or external id match `value`.

    PostgreSQL: full-text search over title + statement (websearch syntax: words, "phrases", -not),
    exact tag, external id substring; when none of those match, trigram similarity on the title.
    The three branches are one OR on the row itself, each one indexed (tsvector GIN, tags GIN,
    external-id trigram GIN): a rare word is a BitmapOr, a common one stops at the first page.
    SQLite: substring match.
    """
    if connection.vendor == "postgresql":
        from curation.models import Problem

        fts = RawSQL(PG_FTS_SQL, [value], output_field=BooleanField())
        precise = queryset.filter(Q(fts) | Q(tags__contains=[value]) | Q(external_id__icontains=value))
        if precise.exists():
            return precise
        # Nothing matches the words themselves: fall back to titles that look alike (typos, partial
        # words). Only as a fallback, so that "Two Sum 2" is not drowned by every "Two Sum ...".
        trigram = Problem.objects.extra(where=[PG_TRGM_WHERE], params=[value]).values("pk")
        return queryset.filter(pk__in=trigram)
    return queryset.filter(
        Q(title__icontains=value) | Q(external_id__icontains=value) | Q(statement__icontains=value) | Q(tags__icontains=value)
    )


def tag_filter(queryset, value: str):
    if connection.vendor == "postgresql":
        return queryset.filter(tags__contains=[value])  # jsonb @>, GIN-indexed
    return queryset.filter(tags__icontains=f'"{value}"')  # SQLite: the JSON text holds "tag"


class ProblemFilter(df.FilterSet):
    q = df.CharFilter(method="filter_text", label="Text", max_length=TEXT_MAX)
    tag = df.CharFilter(method="filter_tag", label="Tag", max_length=SHORT_TEXT_MAX)
    source = df.ModelMultipleChoiceFilter(field_name="source__name", to_field_name="name", queryset=Source.objects.all())
    platform = df.CharFilter(field_name="platform", max_length=SHORT_TEXT_MAX)
    io_format = df.ChoiceFilter(choices=IoFormat.choices)
    process_status = df.ChoiceFilter(choices=ProcessStatus.choices)
    verification_status = df.ChoiceFilter(choices=VerificationStatus.choices)
    bucket = df.ChoiceFilter(choices=Bucket.choices)
    review_status = df.ChoiceFilter(choices=ReviewStatus.choices)
    reviewed = df.BooleanFilter(method="filter_reviewed", label="Reviewed")
    is_duplicate = df.BooleanFilter()
    is_contaminated = df.BooleanFilter()
    is_benchmark = df.BooleanFilter()
    difficulty_label = df.CharFilter(max_length=SHORT_TEXT_MAX)
    contest_date_after = df.DateFilter(field_name="contest_date", lookup_expr="gte")
    contest_date_before = df.DateFilter(field_name="contest_date", lookup_expr="lte")
    weighted_score_min = df.NumberFilter(field_name="weighted_score", lookup_expr="gte", **SCORE_BOUNDS)
    weighted_score_max = df.NumberFilter(field_name="weighted_score", lookup_expr="lte", **SCORE_BOUNDS)
    pass_rate_min = df.NumberFilter(field_name="calibrated_pass_rate", lookup_expr="gte", **RATE_BOUNDS)
    pass_rate_max = df.NumberFilter(field_name="calibrated_pass_rate", lookup_expr="lte", **RATE_BOUNDS)
    selection = df.NumberFilter(field_name="selections__id", min_value=1, max_value=ID_MAX, decimal_places=0)
    ordering = df.OrderingFilter(
        fields=(
            ("id", "id"),
            ("title", "title"),
            ("contest_date", "contest_date"),
            ("weighted_score", "weighted_score"),
            ("calibrated_pass_rate", "pass_rate"),
            ("updated_at", "updated_at"),
        )
    )

    class Meta:
        model = Problem
        fields: list[str] = []
        form = ProblemFilterForm

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return text_search(queryset, value)

    def filter_tag(self, queryset, name, value):
        value = value.strip()
        return tag_filter(queryset, value) if value else queryset

    def filter_reviewed(self, queryset, name, value):
        done = [ReviewStatus.ACCEPTED, ReviewStatus.REJECTED]
        return queryset.filter(review_status__in=done) if value else queryset.exclude(review_status__in=done)


# One min/max pair per difficulty dimension: `algorithmic_thinking_min=6` etc.
for _dim in DIMENSIONS:
    ProblemFilter.base_filters[f"{_dim}_min"] = df.NumberFilter(field_name=f"score_{_dim}", lookup_expr="gte", **SCORE_BOUNDS)
    ProblemFilter.base_filters[f"{_dim}_max"] = df.NumberFilter(field_name=f"score_{_dim}", lookup_expr="lte", **SCORE_BOUNDS)
