"""Thin API views: parse with an input serializer, call a service or a queryset, render with an
output serializer. Permissions by role (viewer reads; curator writes; admin manages webhooks)."""
from __future__ import annotations

from pathlib import Path

from django.contrib.auth import authenticate
from django.db.models import Count, Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
import django_filters as df
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken
from accounts.services import TokenInputError, api_token_create, api_token_revoke
from accounts.throttles import TokenCreateThrottle
from curation import models as m
from curation.exports import ExportOptionsError
from curation.filters import ProblemFilter
from curation.services import exports as export_services
from curation.services import snapshots as snapshot_services
from curation.services import webhooks as webhook_services

from . import serializers as s
from .exceptions import Conflict, JsonErrorsMixin, field_error
from .pagination import ApiCursorPagination, AscendingIdPagination, OrdinalPagination
from .permissions import RolePermission
from .schema import ApiAutoSchema, ErrorSerializer
from .services import problem_labels_update

ID_REGEX = r"[0-9]{1,18}"


class ApiViewMixin(JsonErrorsMixin):
    permission_classes = [RolePermission]
    pagination_class = ApiCursorPagination
    schema = ApiAutoSchema()
    lookup_value_regex = ID_REGEX
    read_role = "viewer"
    write_role = "curator"


class ReadOnlyViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    pass


# --- auth ----------------------------------------------------------------------------------


class AuthTokenView(JsonErrorsMixin, APIView):
    """POST: a new named API token (shown once; only its digest is kept), for the current user or,
    unauthenticated, for the username and password given. DELETE: revoke the token this request
    authenticates with. Logins are throttled by django-axes, creation by TokenCreateThrottle."""

    schema = ApiAutoSchema()

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self):
        return [TokenCreateThrottle()] if self.request.method == "POST" else super().get_throttles()

    @extend_schema(request=s.TokenInputSerializer, responses={201: s.TokenOutputSerializer})
    def post(self, request):
        data = s.TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user if request.user.is_authenticated else None
        if user is None:
            username, password = data.validated_data.get("username"), data.validated_data.get("password")
            if not username:
                raise field_error("username", "This field is required when not authenticated.")
            if not password:
                raise field_error("password", "This field is required when not authenticated.")
            user = authenticate(request._request, username=username, password=password)
            if user is None or not user.is_active:
                raise field_error("password", "Unable to log in with these credentials.")
        try:
            token, raw = api_token_create(user=user, name=data.validated_data["name"],
                                          expires_in_days=data.validated_data["expires_in_days"])
        except TokenInputError as exc:
            raise field_error(exc.field, exc.message) from None
        body = s.TokenOutputSerializer({
            "token": raw, "id": token.pk, "name": token.name, "prefix": token.prefix, "expires_at": token.expires_at,
            "username": user.get_username(), "created": True,
        }).data
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        if not isinstance(request.auth, ApiToken):
            raise field_error("token", "Send the token to revoke as the Authorization header; revoke others on the token page.")
        api_token_revoke(token=request.auth, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- problems and their children -------------------------------------------------------------


class ApiProblemFilter(ProblemFilter):
    """The workspace's ProblemFilter; the API orders by id (cursor pagination), so no `ordering`."""

    class Meta(ProblemFilter.Meta):
        pass


@extend_schema_field(OpenApiTypes.STR)
class SourceNameFilter(df.ModelMultipleChoiceFilter):
    """Source names (repeat the parameter for several)."""


ApiProblemFilter.base_filters = {k: v for k, v in ProblemFilter.base_filters.items() if k != "ordering"}
ApiProblemFilter.base_filters["source"] = SourceNameFilter(
    field_name="source__name", to_field_name="name", queryset=m.Source.objects.all()
)


class ProblemViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    filterset_class = ApiProblemFilter
    pagination_class = AscendingIdPagination
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        queryset = m.Problem.objects.select_related("source")
        if self.action != "list":
            queryset = queryset.annotate(
                test_count=Count("tests", distinct=True),
                training_test_count=Count("tests", filter=Q(tests__is_training=True), distinct=True),
                solution_count=Count("solutions", distinct=True),
            )
        return queryset

    def get_serializer_class(self):
        return s.ProblemListSerializer if self.action == "list" else s.ProblemDetailSerializer

    @extend_schema(request=s.ProblemPatchSerializer, responses={200: s.ProblemDetailSerializer})
    def partial_update(self, request, *args, **kwargs):
        problem = self.get_object()
        data = s.ProblemPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        version = changes.pop("version")
        problem_labels_update(problem_id=problem.pk, user=request.user, version=version, changes=changes)
        return Response(s.ProblemDetailSerializer(self.get_queryset().get(pk=problem.pk)).data)


class TestCaseViewSet(ReadOnlyViewSet):
    queryset = m.TestCase.objects.all()
    serializer_class = s.TestCaseSerializer
    filterset_fields = ("problem", "kind", "is_training")


class ReferenceSolutionViewSet(ReadOnlyViewSet):
    queryset = m.ReferenceSolution.objects.all()
    serializer_class = s.ReferenceSolutionSerializer
    filterset_fields = ("problem", "language", "is_correct")


class PredictionViewSet(ReadOnlyViewSet):
    queryset = m.Prediction.objects.select_related("rubric")
    serializer_class = s.PredictionSerializer
    filterset_fields = ("problem", "predictor", "model", "status")


class VerificationRunViewSet(ReadOnlyViewSet):
    queryset = m.VerificationRun.objects.all()
    filterset_fields = ("problem", "outcome", "stage_run")

    def get_queryset(self):
        queryset = m.VerificationRun.objects.all()
        return queryset.prefetch_related("verdicts") if self.action == "retrieve" else queryset

    def get_serializer_class(self):
        return s.VerificationRunDetailSerializer if self.action == "retrieve" else s.VerificationRunSerializer


class ReviewViewSet(ReadOnlyViewSet):
    queryset = m.Review.objects.select_related("reviewer")
    serializer_class = s.ReviewSerializer
    filterset_fields = ("problem", "decision", "is_adjudication")


# --- selections, snapshots, exports -----------------------------------------------------------


class SelectionViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = m.Selection.objects.annotate(n_problems=Count("problems")).select_related("created_by")
    serializer_class = s.SelectionSerializer
    filterset_fields = ("name",)

    @extend_schema(request=s.SelectionCreateSerializer, responses={201: s.SelectionSerializer})
    def create(self, request, *args, **kwargs):
        data = s.SelectionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        selection = snapshot_services.selection_create(user=request.user, **data.validated_data)
        return Response(s.SelectionSerializer(self.get_queryset().get(pk=selection.pk)).data, status=status.HTTP_201_CREATED)


class SnapshotViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = m.DatasetSnapshot.objects.select_related("created_by")
    serializer_class = s.DatasetSnapshotSerializer
    filterset_fields = ("name", "version", "content_hash")

    @extend_schema(request=s.SnapshotCreateSerializer, responses={201: s.DatasetSnapshotSerializer})
    def create(self, request, *args, **kwargs):
        data = s.SnapshotCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        decontamination = v.get("decontamination")
        if decontamination and decontamination.get("cutoff_date"):
            decontamination = {**decontamination, "cutoff_date": decontamination["cutoff_date"].isoformat()}
        snapshot = snapshot_services.snapshot_create(
            name=v["name"], user=request.user, selection=v.get("selection"), filters=v.get("filters"),
            decontamination=decontamination,
        )
        return Response(s.DatasetSnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.SnapshotItemSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=OrdinalPagination, filter_backends=[])
    def items(self, request, pk=None):
        snapshot = self.get_object()
        queryset = m.SnapshotItem.objects.filter(snapshot=snapshot)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.SnapshotItemSerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("other", OpenApiTypes.INT, required=True, description="The snapshot to compare with (the newer one)")],
        responses=s.SnapshotDiffSerializer,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def diff(self, request, pk=None):
        snapshot = self.get_object()
        other_id = request.query_params.get("other", "")
        if not other_id.isdigit() or len(other_id) > 18:
            raise field_error("other", "Required: the id of the snapshot to compare with.")
        other = get_object_or_404(m.DatasetSnapshot, pk=int(other_id))
        return Response(snapshot_services.snapshot_diff(snapshot, other))


class BinaryRenderer(renderers.BaseRenderer):
    media_type = "application/octet-stream"
    format = "bin"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return renderers.JSONRenderer().render(data)


class ExportViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = m.Export.objects.select_related("created_by")
    serializer_class = s.ExportSerializer
    filterset_fields = ("snapshot", "format", "status")

    @extend_schema(request=s.ExportCreateSerializer, responses={202: s.ExportSerializer})
    def create(self, request, *args, **kwargs):
        data = s.ExportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            export = export_services.export_create(
                snapshot=v["snapshot"], format=v["format"], user=request.user, options=v.get("options") or {}
            )
        except ExportOptionsError as exc:
            field = exc.field if exc.field == "format" else f"options.{exc.field}"
            raise field_error(field, exc.message) from None
        return Response(s.ExportSerializer(export, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The export file"),
            409: OpenApiResponse(ErrorSerializer, description="The export has not finished"),
        }
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None,
            renderer_classes=[renderers.JSONRenderer, BinaryRenderer])
    def download(self, request, pk=None):
        export = self.get_object()
        path = export_services.export_file_path(export)
        if path is None:
            raise Conflict(f"export {export.pk} is {export.status}; the file is ready when it has succeeded")
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=Path(export.file).name, content_type="application/octet-stream"
        )


# --- runs -----------------------------------------------------------------------------------


class ImportRunViewSet(ReadOnlyViewSet):
    queryset = m.ImportRun.objects.select_related("source")
    serializer_class = s.ImportRunSerializer
    filterset_fields = ("status", "format", "source")


class StageRunViewSet(ReadOnlyViewSet):
    queryset = m.StageRun.objects.all()
    serializer_class = s.StageRunSerializer
    filterset_fields = ("stage", "status")


# --- webhooks (admin) -----------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(request=s.WebhookInputSerializer, responses={201: s.WebhookSerializer}),
    partial_update=extend_schema(request=s.WebhookInputSerializer(partial=True), responses={200: s.WebhookSerializer}),
)
class WebhookViewSet(ApiViewMixin, viewsets.ModelViewSet):
    queryset = m.Webhook.objects.all()
    serializer_class = s.WebhookSerializer
    read_role = "admin"
    write_role = "admin"
    filterset_fields = ("is_active",)
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = s.WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hook = webhook_services.webhook_create(user=request.user, **data.validated_data)
        return Response(s.WebhookSerializer(hook).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        hook = self.get_object()
        data = s.WebhookInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        hook = webhook_services.webhook_update(webhook=hook, user=request.user, **data.validated_data)
        return Response(s.WebhookSerializer(hook).data)

    def destroy(self, request, *args, **kwargs):
        webhook_services.webhook_delete(webhook=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryViewSet(ReadOnlyViewSet):
    queryset = m.WebhookDelivery.objects.all()
    serializer_class = s.WebhookDeliverySerializer
    read_role = "admin"
    filterset_fields = ("webhook", "event", "status")
