"""REST API of training runs (`/api/v1/training-runs/`): create, list, detail, cancel, retry and
metrics as series; compute targets are listed at `/api/v1/compute-targets/`. Reads need the
viewer role; creating, cancelling and retrying need the trainer capability (or admin)."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from curation.api.exceptions import Conflict, field_error
from curation.api.views import ApiViewMixin
from curation.models import DatasetSnapshot
from training_jobs import selectors
from training_jobs.models import Algorithm, ComputeTarget, Framework, Recipe, RunAttempt, TrainingRun
from training_jobs.services.runs import (
    TRAINING_ROLE,
    TrainingInputError,
    TransitionError,
    recipe_create,
    training_run_cancel,
    training_run_create,
    training_run_retry,
)


class ComputeTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComputeTarget
        fields = ("id", "name", "kind", "address", "options", "token_env", "is_enabled", "last_health", "last_health_at")
        read_only_fields = fields


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunAttempt
        fields = ("number", "key", "external_id", "backend_status", "exit_code", "message", "resume_from",
                  "submitted_at", "started_at", "ended_at")
        read_only_fields = fields


class TrainingRunSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True, default=None)
    target = serializers.CharField(source="target.name", read_only=True)
    attempts = AttemptSerializer(many=True, read_only=True)
    checkpoints = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = ("id", "name", "status", "total", "done", "progress", "message", "config", "train_snapshot",
                  "val_snapshot", "recipe", "target", "output_dir", "cancel_requested", "attempts", "checkpoints",
                  "eval_every", "eval_benchmark", "eval_options",
                  "created_by", "created_at", "started_at", "finished_at", "last_metric_at")
        read_only_fields = fields

    def get_checkpoints(self, obj) -> list[dict]:
        return [{"step": c.step, "path": c.path, "size_bytes": c.size_bytes} for c in obj.checkpoints.order_by("step")]


class TrainingRunCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    train_snapshot = serializers.PrimaryKeyRelatedField(queryset=DatasetSnapshot.objects.all())
    val_snapshot = serializers.PrimaryKeyRelatedField(queryset=DatasetSnapshot.objects.all(), required=False,
                                                      allow_null=True)
    target = serializers.SlugRelatedField(slug_field="name", queryset=ComputeTarget.objects.all(),
                                          help_text="compute target name")
    recipe = serializers.PrimaryKeyRelatedField(queryset=Recipe.objects.all(), required=False, allow_null=True,
                                                help_text="an existing recipe, or give framework/algorithm/base_model/params")
    framework = serializers.ChoiceField(choices=Framework.choices, required=False)
    algorithm = serializers.ChoiceField(choices=Algorithm.choices, required=False)
    base_model = serializers.CharField(max_length=500, required=False)
    params = serializers.DictField(required=False, help_text="recipe hyper-parameters; defaults are the paper's")
    eval_every = serializers.IntegerField(required=False, default=0, min_value=0,
                                         help_text="evaluate every checkpoint whose step this divides (0: never)")
    eval_benchmark = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                           help_text="benchmark name (blank: every benchmark problem)")
    eval_options = serializers.DictField(required=False, default=dict, help_text="n_samples, temperature, top_p, "
                                         "max_tokens, concurrency, date_from, date_to (YYYY-MM-DD)")


class MetricSeriesSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    status = serializers.CharField()
    series = serializers.DictField(child=serializers.ListField(child=serializers.ListField(child=serializers.FloatField())),
                                   help_text="{canonical metric name: [[step, value], ...]}")


def _domain(exc: Exception):
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc))
    if isinstance(exc, TransitionError) or (isinstance(exc, TrainingInputError) and exc.field == "status"):
        return Conflict(exc.message)
    return field_error(exc.field, exc.message)


class ComputeTargetViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ComputeTarget.objects.order_by("name")
    serializer_class = ComputeTargetSerializer
    filterset_fields = ("kind", "is_enabled")


class TrainingRunViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = TrainingRun.objects.select_related("target", "created_by").prefetch_related("attempts")
    serializer_class = TrainingRunSerializer
    filterset_fields = ("status", "train_snapshot", "target")
    write_role = TRAINING_ROLE

    @extend_schema(request=TrainingRunCreateSerializer, responses={201: TrainingRunSerializer})
    def create(self, request, *args, **kwargs):
        data = TrainingRunCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            recipe = v.get("recipe")
            if recipe is None:
                if not v.get("base_model"):
                    raise TrainingInputError("base_model", "required when no recipe is given")
                recipe = recipe_create(name=v.get("name") or "", framework=v.get("framework") or Framework.VERL,
                                       algorithm=v.get("algorithm") or Algorithm.DAPO, base_model=v["base_model"],
                                       params=v.get("params") or {}, user=request.user)
            run = training_run_create(user=request.user, name=v.get("name") or "", train_snapshot=v["train_snapshot"],
                                      val_snapshot=v.get("val_snapshot"), recipe=recipe, target=v["target"],
                                      eval_every=v["eval_every"], eval_benchmark=v["eval_benchmark"],
                                      eval_options=v["eval_options"])
        except (TrainingInputError, DjangoPermissionDenied) as exc:
            raise _domain(exc) from None
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: TrainingRunSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        try:
            run = training_run_cancel(run=self.get_object(), user=request.user)
        except (TrainingInputError, DjangoPermissionDenied) as exc:
            raise _domain(exc) from None
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: TrainingRunSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        try:
            attempt = training_run_retry(run=self.get_object(), user=request.user)
        except (TrainingInputError, DjangoPermissionDenied) as exc:
            raise _domain(exc) from None
        return Response(TrainingRunSerializer(attempt.run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[OpenApiParameter("key", str, many=True, description="canonical metric names (all when absent)")],
        responses={200: MetricSeriesSerializer},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def metrics(self, request, pk=None):
        run = self.get_object()
        keys = request.query_params.getlist("key") or None
        return Response({"run": run.pk, "status": run.status, "series": selectors.metric_series(run, keys)})
