"""Evaluation API (under /api/v1/evaluations/): thin views over the services and selectors,
in the project API's conventions (roles, JSON errors, cursor pagination, OpenAPI schema)."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from curation.api.exceptions import Conflict, field_error
from curation.api.pagination import AscendingIdPagination
from curation.api.serializers import JudgeModeField, UsernameField
from curation.api.views import ApiViewMixin

from . import selectors, services
from training_jobs.models import Checkpoint

from .models import EvalProblem, EvalRun, EvalSample



# Primary keys are 64-bit: a larger (or non-positive) number is no row's id, and is looked up as
# id 0, which no row has, rather than sent to the database (SQLite raises OverflowError on it).
_MAX_ROW_ID = 2**63 - 1


def _row_id(value, field: str, message: str) -> int:
    try:
        row_id = int(value)
    except (TypeError, ValueError):
        raise field_error(field, message) from None
    return row_id if 1 <= row_id <= _MAX_ROW_ID else 0

class EvalRunSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)
    created_by = UsernameField()
    summary = serializers.JSONField(read_only=True, help_text="ks; overall and by label/bucket/platform/month: "
                                    "pass@k {value, low, high, problems} (95% bootstrap over problems)")
    judge_mode = JudgeModeField()

    class Meta:
        model = EvalRun
        fields = (
            "id", "name", "source", "status", "total", "done", "progress", "message", "errors",
            "model_name", "base_url", "benchmark_name", "date_from", "date_to", "n_samples", "temperature", "top_p",
            "max_tokens", "concurrency", "request_timeout_s", "prompts", "checkpoint", "serve_checkpoint", "scheduled",
            "serve_key", "serve_external_id", "serve_state", "serve_job_dir", "serve_message", "cancel_requested",
            "problem_count", "samples_correct",
            "samples_failed", "cached_samples", "prompt_tokens", "completion_tokens", "summary", "judge_mode",
            "created_by", "created_at", "started_at", "finished_at",
        )
        read_only_fields = fields


class EvalRunCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    base_url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                     help_text="OpenAI-compatible endpoint, e.g. http://host:8000/v1; leave it out "
                                               "with a checkpoint to have the checkpoint served")
    model_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                       help_text="required with base_url; defaults to the checkpoint's folder")
    benchmark_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)
    n_samples = serializers.IntegerField(required=False, default=1)
    temperature = serializers.FloatField(required=False, default=0.2)
    top_p = serializers.FloatField(required=False, default=0.95)
    max_tokens = serializers.IntegerField(required=False, default=2048)
    concurrency = serializers.IntegerField(required=False, default=16)
    request_timeout_s = serializers.FloatField(required=False, default=120.0)
    checkpoint = serializers.PrimaryKeyRelatedField(queryset=Checkpoint.objects.all(), required=False, allow_null=True,
                                                    default=None, help_text="a training checkpoint: served at base_url "
                                                    "when given, else by a serving job on its run's compute target")
    prompts = serializers.DictField(child=serializers.CharField(), required=False, default=None,
                                    help_text="templates: system, stdin, functional ({statement}, {starter_code})")


class EvalImportSerializer(serializers.Serializer):
    model_name = serializers.CharField(max_length=200)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    benchmark_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    results = serializers.ListField(child=serializers.JSONField(), help_text="lcb_runner eval_all output: "
                                    "[{question_id, graded_list, code_list?, difficulty?, platform?, contest_date?}]")


class EvalProblemSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvalProblem
        fields = ("id", "question_id", "problem", "title", "label", "bucket", "platform", "month", "n", "c")
        read_only_fields = fields


class EvalSampleSerializer(serializers.ModelSerializer):
    question_id = serializers.CharField(source="eval_problem.question_id", read_only=True)

    class Meta:
        model = EvalSample
        fields = ("id", "question_id", "index", "status", "verdict", "passed", "language", "fence_language", "code",
                  "answer", "tests", "error", "prompt_tokens", "completion_tokens")
        read_only_fields = fields


class CustomInputSerializer(serializers.Serializer):
    question_id = serializers.CharField()
    code_list = serializers.ListField(child=serializers.CharField())


def _input_error(exc: services.EvalInputError):
    return field_error(exc.field, exc.message)


class EvalRunViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     viewsets.GenericViewSet):
    queryset = EvalRun.objects.select_related("created_by")
    serializer_class = EvalRunSerializer
    filterset_fields = ("status", "model_name", "benchmark_name", "source", "checkpoint")

    @extend_schema(request=EvalRunCreateSerializer, responses={202: EvalRunSerializer})
    def create(self, request, *args, **kwargs):
        data = EvalRunCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            run = services.eval_run_create(user=request.user, **data.validated_data)
        except services.EvalInputError as exc:
            raise _input_error(exc) from None
        return Response(EvalRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=EvalImportSerializer, responses={201: EvalRunSerializer})
    @action(detail=False, methods=["post"], url_path="import-lcb")
    def import_lcb(self, request):
        data = EvalImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            run = services.eval_import_lcb(user=request.user, data=v["results"], model_name=v["model_name"],
                                           name=v["name"], benchmark_name=v["benchmark_name"])
        except services.EvalInputError as exc:
            raise _input_error(exc) from None
        return Response(EvalRunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: EvalRunSerializer, 409: OpenApiResponse(description="still running")})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        run = self.get_object()
        if not run.is_finished:
            raise Conflict(f"evaluation {run.pk} is {run.status}")
        run = services.eval_run_resume(run=run, user=request.user)
        return Response(EvalRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: EvalRunSerializer, 409: OpenApiResponse(description="already finished")})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stop an evaluation: what was judged is summarised; a checkpoint's serving job is stopped."""
        try:
            run = services.eval_run_cancel(run=self.get_object(), user=request.user)
        except services.EvalInputError as exc:
            raise Conflict(exc.message) from None
        return Response(EvalRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=EvalProblemSerializer(many=True))
    @extend_schema(parameters=[OpenApiParameter(k, OpenApiTypes.STR) for k in ("label", "bucket", "platform", "month")])
    @action(detail=True, methods=["get"], pagination_class=AscendingIdPagination, filter_backends=[])
    def problems(self, request, pk=None):
        run = self.get_object()
        qs = EvalProblem.objects.filter(run=run)
        for key in ("label", "bucket", "platform", "month"):
            if request.query_params.get(key):
                qs = qs.filter(**{key: request.query_params[key]})
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(EvalProblemSerializer(page, many=True).data)

    @extend_schema(parameters=[OpenApiParameter("question_id", OpenApiTypes.STR, description="one problem's samples")],
                   responses=EvalSampleSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=AscendingIdPagination, filter_backends=[])
    def samples(self, request, pk=None):
        run = self.get_object()
        qs = EvalSample.objects.filter(run=run).select_related("eval_problem")
        if request.query_params.get("question_id"):
            qs = qs.filter(eval_problem__question_id=request.query_params["question_id"])
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(EvalSampleSerializer(page, many=True).data)

    @extend_schema(responses=CustomInputSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="lcb-custom-input", pagination_class=None, filter_backends=[])
    def lcb_custom_input(self, request, pk=None):
        """This run's code as lcb_runner's custom-evaluator input."""
        return Response(selectors.lcb_custom_input(self.get_object()))

    @extend_schema(parameters=[OpenApiParameter("runs", OpenApiTypes.INT, many=True, required=True,
                                                description="two or more evaluation ids; the first is the base")],
                   responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="deltas with paired intervals, flipped problems")})
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def compare(self, request):
        ids = [_row_id(x, "runs", "expected evaluation ids") for x in request.query_params.getlist("runs")]
        if len(set(ids)) < 2:
            raise field_error("runs", "give two or more evaluation ids")
        runs = [get_object_or_404(EvalRun, pk=i) for i in dict.fromkeys(ids)]
        return Response(selectors.eval_compare(runs))

    @extend_schema(parameters=[OpenApiParameter("training_run", OpenApiTypes.INT, required=True)],
                   responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="steps and pass@1 series by difficulty")})
    @action(detail=False, methods=["get"], url_path="checkpoint-curve", pagination_class=None, filter_backends=[])
    def checkpoint_curve(self, request):
        """pass@1 by difficulty against step for a training run's evaluated checkpoints."""
        run_id = _row_id(request.query_params.get("training_run", ""), "training_run", "expected a training run id")
        return Response(selectors.checkpoint_curve(run_id))
