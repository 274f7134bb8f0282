"""The problem filters, shared by the curator workspace and the REST API so that both agree."""
from __future__ import annotations

import django_filters as df
from django.db.models import Q

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


class ProblemFilter(df.FilterSet):
    q = df.CharFilter(method="filter_text", label="Text")
    source = df.ModelMultipleChoiceFilter(field_name="source__name", to_field_name="name", queryset=Source.objects.all())
    platform = df.CharFilter(field_name="platform")
    io_format = df.ChoiceFilter(choices=IoFormat.choices)
    process_status = df.ChoiceFilter(choices=ProcessStatus.choices)
    verification_status = df.ChoiceFilter(choices=VerificationStatus.choices)
    bucket = df.ChoiceFilter(choices=Bucket.choices)
    review_status = df.ChoiceFilter(choices=ReviewStatus.choices)
    reviewed = df.BooleanFilter(method="filter_reviewed", label="Reviewed")
    is_duplicate = df.BooleanFilter()
    is_contaminated = df.BooleanFilter()
    is_benchmark = df.BooleanFilter()
    difficulty_label = df.CharFilter()
    contest_date_after = df.DateFilter(field_name="contest_date", lookup_expr="gte")
    contest_date_before = df.DateFilter(field_name="contest_date", lookup_expr="lte")
    weighted_score_min = df.NumberFilter(field_name="weighted_score", lookup_expr="gte")
    weighted_score_max = df.NumberFilter(field_name="weighted_score", lookup_expr="lte")
    pass_rate_min = df.NumberFilter(field_name="calibrated_pass_rate", lookup_expr="gte")
    pass_rate_max = df.NumberFilter(field_name="calibrated_pass_rate", lookup_expr="lte")
    selection = df.NumberFilter(field_name="selections__id")
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

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(external_id__icontains=value))

    def filter_reviewed(self, queryset, name, value):
        done = [ReviewStatus.ACCEPTED, ReviewStatus.REJECTED]
        return queryset.filter(review_status__in=done) if value else queryset.exclude(review_status__in=done)


# One min/max pair per difficulty dimension: `algorithmic_thinking_min=6` etc.
for _dim in DIMENSIONS:
    ProblemFilter.base_filters[f"{_dim}_min"] = df.NumberFilter(field_name=f"score_{_dim}", lookup_expr="gte")
    ProblemFilter.base_filters[f"{_dim}_max"] = df.NumberFilter(field_name=f"score_{_dim}", lookup_expr="lte")
