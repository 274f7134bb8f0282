"""Input and output serializers (HackSoft: output serializers describe what the API returns,
input serializers validate what it accepts; services do the writing)."""
from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from curation import models as m
from curation.exports import EXPORT_FORMATS
from curation.services.webhooks import WEBHOOK_EVENTS

SCORE_FIELDS = tuple(f"score_{dim}" for dim in m.DIMENSIONS)


# --- auth ----------------------------------------------------------------------------------


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(required=False, max_length=150, help_text="Only when not already authenticated")
    password = serializers.CharField(required=False, max_length=4096, write_only=True, style={"input_type": "password"})
    name = serializers.CharField(required=False, max_length=100, default="api", help_text="What or who uses the token")
    expires_in_days = serializers.IntegerField(required=False, default=30, min_value=1,
                                               help_text="Days until it expires (at most API_TOKEN_MAX_DAYS, 365 by default)")


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The token itself: shown this once, only its digest is stored")
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    expires_at = serializers.DateTimeField()
    username = serializers.CharField()
    created = serializers.BooleanField()


# --- problems -------------------------------------------------------------------------------


class ProblemListSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source.name", read_only=True)
    problem_key = serializers.SerializerMethodField()
    url = serializers.CharField(read_only=True, help_text="The problem's page, or empty")

    class Meta:
        model = m.Problem
        fields = (
            "id", "problem_key", "source", "external_id", "platform", "contest_id", "problem_index", "contest_date",
            "url", "title", "io_format", "function_name", "difficulty_label", "difficulty_rating", "tags",
            "process_status", "verification_status", "is_duplicate", "is_benchmark", "is_contaminated",
            *SCORE_FIELDS, "weighted_score", "calibrated_pass_rate", "bucket", "review_status", "version",
            "content_hash", "created_at", "updated_at",
        )
        read_only_fields = fields

    def get_problem_key(self, obj) -> str:
        return f"{obj.source.name}:{obj.external_id}"


class ProblemDetailSerializer(ProblemListSerializer):
    test_count = serializers.IntegerField(read_only=True)
    training_test_count = serializers.IntegerField(read_only=True)
    solution_count = serializers.IntegerField(read_only=True)

    class Meta(ProblemListSerializer.Meta):
        fields = ProblemListSerializer.Meta.fields + (
            "statement", "format_instruction", "starter_code", "signature", "comparison", "time_limit_ms",
            "memory_limit_mb", "flags", "process_reasons", "benchmark_name", "test_count", "training_test_count",
            "solution_count",
        )
        read_only_fields = fields


PATCHABLE_FIELDS = ("difficulty_label", "tags", "bucket", *SCORE_FIELDS, "weighted_score", "calibrated_pass_rate")


class ProblemPatchSerializer(serializers.Serializer):
    """Curators may change labels and scores only; `version` must be the version they read."""

    version = serializers.IntegerField(min_value=1, help_text="The problem's version as last read (optimistic check)")
    difficulty_label = serializers.CharField(max_length=32, allow_blank=True, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=100)
    bucket = serializers.ChoiceField(choices=[("", "none"), *m.Bucket.choices], required=False)
    score_algorithmic_thinking = serializers.FloatField(min_value=1, max_value=10, allow_null=True, required=False)
    score_implementation = serializers.FloatField(min_value=1, max_value=10, allow_null=True, required=False)
    score_mathematics = serializers.FloatField(min_value=1, max_value=10, allow_null=True, required=False)
    score_data_structures = serializers.FloatField(min_value=1, max_value=10, allow_null=True, required=False)
    score_edge_cases = serializers.FloatField(min_value=1, max_value=10, allow_null=True, required=False)
    weighted_score = serializers.FloatField(min_value=0, max_value=10, allow_null=True, required=False)
    calibrated_pass_rate = serializers.FloatField(min_value=0, max_value=1, allow_null=True, required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {unknown[0]: [f"This field cannot be changed here; allowed: {', '.join(PATCHABLE_FIELDS)}."]}
                )
        return super().to_internal_value(data)


# --- problem children ---------------------------------------------------------------------


class TestCaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = m.TestCase
        fields = ("id", "problem", "ordinal", "kind", "group", "is_training", "size_bytes", "input", "output", "flags")
        read_only_fields = fields


class ReferenceSolutionSerializer(serializers.ModelSerializer):
    class Meta:
        model = m.ReferenceSolution
        fields = ("id", "problem", "ordinal", "language", "is_correct", "code")
        read_only_fields = fields


class PredictionSerializer(serializers.ModelSerializer):
    rubric = serializers.CharField(source="rubric.version", read_only=True)

    class Meta:
        model = m.Prediction
        fields = (
            "id", "problem", "rubric", "stage_run", "predictor", "model", "prompt_version", "content_hash", "status",
            *SCORE_FIELDS, "weighted_score", "reasons", "error", "prompt_tokens", "completion_tokens", "attempts",
            "created_at",
        )
        read_only_fields = fields


class VerdictSerializer(serializers.ModelSerializer):
    class Meta:
        model = m.Verdict
        fields = ("id", "solution", "test", "verdict", "time_ms", "memory_kb", "diff")
        read_only_fields = fields


class JudgeModeSerializer(serializers.Serializer):
    """How a run's judgements were limited: the weakest seen (curation.judge.mode)."""

    isolation = serializers.CharField(help_text="bubblewrap, or rlimits-only where the code ran unsandboxed")
    resource_limits = serializers.CharField(
        help_text="cgroup-v1 | cgroup-v2: memory, pids and CPU per solution; rlimits-only: per process only")
    seccomp = serializers.BooleanField(help_text="whether the seccomp system-call filter was installed")


@extend_schema_field(JudgeModeSerializer(allow_null=True))
class JudgeModeField(serializers.Field):
    """A run row's `judge_mode` as an object, or null when the run judged nothing (or predates it)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, mode):
        if not isinstance(mode, dict) or not (mode.get("isolation") or mode.get("resource_limits")):
            return None
        return {"isolation": str(mode.get("isolation") or ""), "resource_limits": str(mode.get("resource_limits") or ""),
                "seccomp": bool(mode.get("seccomp"))}


class VerificationRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = m.VerificationRun
        fields = (
            "id", "problem", "stage_run", "outcome", "detail", "inconsistent_tests", "isolation", "resource_limits",
            "seccomp", "max_reference_ms", "derived_time_limit_ms", "created_at",
        )
        read_only_fields = fields


class VerificationRunDetailSerializer(VerificationRunSerializer):
    verdicts = VerdictSerializer(many=True, read_only=True)

    class Meta(VerificationRunSerializer.Meta):
        fields = VerificationRunSerializer.Meta.fields + ("verdicts",)
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)

    class Meta:
        model = m.Review
        fields = (
            "id", "problem", "reviewer", "decision", "reason", "adjusted_scores", "comment", "is_adjudication",
            "problem_version", "created_at",
        )
        read_only_fields = fields


# --- selections, snapshots, exports -----------------------------------------------------------


class UsernameField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(source="created_by.username", read_only=True, allow_null=True, default=None, **kwargs)


class SelectionSerializer(serializers.ModelSerializer):
    problem_count = serializers.SerializerMethodField()
    created_by = UsernameField()

    class Meta:
        model = m.Selection
        fields = ("id", "name", "calibration", "policy", "preview", "problem_count", "created_by", "created_at")
        read_only_fields = fields

    def get_problem_count(self, obj) -> int:
        return getattr(obj, "n_problems", None) if getattr(obj, "n_problems", None) is not None else obj.problems.count()


class SelectionCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    problem_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=100_000)
    filters = serializers.DictField(required=False, help_text="ProblemFilter parameters, as in the problems endpoint")
    policy = serializers.DictField(required=False)

    def validate(self, attrs):
        if not attrs.get("problem_ids") and not attrs.get("filters"):
            raise serializers.ValidationError({"problem_ids": ["Give problem_ids or filters."]})
        return attrs


class DatasetSnapshotSerializer(serializers.ModelSerializer):
    created_by = UsernameField()

    class Meta:
        model = m.DatasetSnapshot
        fields = (
            "id", "name", "version", "selection", "criteria", "manifest", "content_hash", "problem_count",
            "created_by", "created_at",
        )
        read_only_fields = fields


class DecontaminationSerializer(serializers.Serializer):
    benchmarks = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    cutoff_date = serializers.DateField(required=False, allow_null=True)


class SnapshotCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    selection = serializers.PrimaryKeyRelatedField(queryset=m.Selection.objects.all(), required=False, allow_null=True)
    filters = serializers.DictField(required=False, help_text="ProblemFilter parameters, as in the problems endpoint")
    decontamination = DecontaminationSerializer(required=False)


class SnapshotItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = m.SnapshotItem
        fields = ("id", "ordinal", "problem", "problem_key", "content_hash", "data")
        read_only_fields = fields


class SnapshotRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    content_hash = serializers.CharField()


class SnapshotDiffSerializer(serializers.Serializer):
    # `from` is a Python keyword: declared below.
    to = SnapshotRefSerializer()
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    changed = serializers.ListField(child=serializers.CharField())
    unchanged_count = serializers.IntegerField()


SnapshotDiffSerializer._declared_fields["from"] = SnapshotRefSerializer()


class ExportSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)
    download_url = serializers.SerializerMethodField()
    created_by = UsernameField()

    class Meta:
        model = m.Export
        fields = (
            "id", "snapshot", "format", "options", "status", "total", "done", "progress", "message", "errors",
            "size_bytes", "sha256", "download_url", "created_by", "created_at", "started_at", "finished_at",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download_url(self, obj) -> str | None:
        if obj.status != m.RunStatus.SUCCEEDED or not obj.file:
            return None
        url = reverse("api-export-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ExportCreateSerializer(serializers.Serializer):
    snapshot = serializers.PrimaryKeyRelatedField(queryset=m.DatasetSnapshot.objects.all())
    format = serializers.ChoiceField(choices=EXPORT_FORMATS)
    options = serializers.DictField(
        required=False,
        help_text="split_by: none|date|hash; cutoff (YYYY-MM-DD, split_by=date); validation_fraction "
        "(split_by=hash, default 0.1); batch_size (default 500); data_source (verl only)",
    )


# --- runs -----------------------------------------------------------------------------------


RUN_FIELDS = (
    "id", "status", "total", "done", "progress", "message", "errors", "created_at", "started_at", "finished_at",
)


class ImportRunSerializer(serializers.ModelSerializer):
    """The file's name only, and errors without server folders (ImportRun.public_errors)."""

    progress = serializers.FloatField(read_only=True)
    source = serializers.CharField(source="source.name", read_only=True)
    file_name = serializers.CharField(read_only=True)
    message = serializers.CharField(source="public_message", read_only=True)
    errors = serializers.ListField(source="public_errors", child=serializers.DictField(), read_only=True)

    class Meta:
        model = m.ImportRun
        fields = RUN_FIELDS + (
            "source", "file_name", "format", "created_count", "updated_count", "unchanged_count", "failed_count",
        )
        read_only_fields = fields


class StageRunSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)
    judge_mode = JudgeModeField()

    class Meta:
        model = m.StageRun
        fields = RUN_FIELDS + ("stage", "step", "params", "counts", "prompt_tokens", "completion_tokens", "judge_mode")
        read_only_fields = fields


# --- webhooks -------------------------------------------------------------------------------


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=[*WEBHOOK_EVENTS, "*"]), read_only=True)

    class Meta:
        model = m.Webhook
        fields = ("id", "url", "secret", "events", "is_active", "created_at")
        read_only_fields = fields


class WebhookInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=serializers.ChoiceField(choices=[*WEBHOOK_EVENTS, "*"]), min_length=1)
    secret = serializers.CharField(max_length=200, required=False, help_text="whsec_...; generated when left out")
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = m.WebhookDelivery
        fields = (
            "id", "webhook", "event", "message_id", "payload", "status", "attempts", "response_status",
            "response_body", "created_at", "delivered_at",
        )
        read_only_fields = fields
