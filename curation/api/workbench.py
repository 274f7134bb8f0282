"""API for the calibration workbench: calibration versions (list, read, save, activate), the
what-if and the weight fit for a proposal, and selection previews. Same services as the pages."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from curation import models as m
from curation import workbench_selectors as wsel
from curation.difficulty import workbench as wb
from curation.difficulty.rubric import DIMENSION_KEYS
from curation.services import calibration_versions as cal_services
from curation.services import selection_versions as sel_services

from .exceptions import JsonErrorsMixin, field_error
from .permissions import RolePermission
from .schema import ApiAutoSchema
from .serializers import UsernameField
from .views import ApiViewMixin


class ProposalSerializer(serializers.Serializer):
    weights = serializers.DictField(child=serializers.FloatField(min_value=0), help_text=f"one non-negative number per dimension ({', '.join(DIMENSION_KEYS)}); normalised to sum 1")
    method = serializers.ChoiceField(choices=m.CalibrationMethod.choices, default="isotonic")
    easy_min = serializers.FloatField(min_value=0, max_value=1, default=0.8)
    hard_max = serializers.FloatField(min_value=0, max_value=1, default=0.2)
    use_human = serializers.BooleanField(default=False, help_text="use curators' adjusted scores and leave rejected problems out")
    origins = serializers.ListField(child=serializers.ChoiceField(choices=list(wb.ORIGINS)), default=list(wb.ORIGINS), min_length=1)

    def proposal(self) -> wb.Proposal:
        v = self.validated_data
        try:
            return wb.proposal_from(v["weights"], method=v["method"], easy_min=v["easy_min"], hard_max=v["hard_max"],
                                    use_human=v["use_human"], origins=v["origins"])
        except wb.WorkbenchError as exc:
            field = "weights" if exc.field.startswith("weight") else exc.field
            raise field_error(field, exc.message) from None


class CalibrationSaveSerializer(ProposalSerializer):
    label = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CalibrationSerializer(serializers.ModelSerializer):
    rubric_version = serializers.CharField(source="rubric.version", read_only=True)
    created_by = UsernameField()

    class Meta:
        model = m.Calibration
        fields = ("id", "version", "label", "method", "rubric_version", "weights", "bucket_bounds", "spearman_rho",
                  "n_points", "evidence", "metrics", "reliability", "fitted", "is_active", "created_by", "created_at")
        read_only_fields = fields


class GroupRhoSerializer(serializers.Serializer):
    group = serializers.CharField()
    n = serializers.IntegerField()
    rho = serializers.FloatField(allow_null=True)


class WhatIfSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="problems with evidence used")
    rho = serializers.FloatField(allow_null=True, help_text="Spearman rho of weighted score against pass rate")
    rho_model_scores = serializers.FloatField(allow_null=True)
    rho_by = serializers.DictField(child=GroupRhoSerializer(many=True))
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="buckets over the whole scored pool")
    evidence_counts = serializers.DictField(child=serializers.IntegerField())
    evidence = serializers.DictField(child=serializers.IntegerField())
    ece = serializers.FloatField(allow_null=True)
    curve = serializers.ListField(child=serializers.DictField())
    band = serializers.ListField(child=serializers.DictField())
    reliability = serializers.ListField(child=serializers.DictField())
    reliability_held_out = serializers.BooleanField(help_text="reliability from 5-fold held-out predictions (isotonic) rather than in-sample")
    disagreements = serializers.DictField(child=serializers.ListField(child=serializers.DictField()))
    proposal = serializers.DictField()


class FitSerializer(serializers.Serializer):
    weights = serializers.DictField(child=serializers.FloatField())
    n = serializers.IntegerField()
    folds = serializers.IntegerField()
    rho_in_sample = serializers.FloatField(allow_null=True)
    rho_cv = serializers.FloatField(allow_null=True, help_text="mean held-out rho of the fitting procedure")
    rho_cv_folds = serializers.ListField(child=serializers.FloatField(allow_null=True))
    proposed_rho_in_sample = serializers.FloatField(allow_null=True)
    proposed_rho_cv = serializers.FloatField(allow_null=True)
    chosen = serializers.CharField()


class StageRunRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stage = serializers.CharField()
    status = serializers.CharField()


class CalibrationViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Calibration versions. The what-if and the fit only read, so viewers may post them."""

    queryset = m.Calibration.objects.select_related("rubric", "created_by").order_by("-created_at", "-id")
    serializer_class = CalibrationSerializer
    filterset_fields = ("method", "is_active")

    @property
    def write_role(self) -> str:  # read by RolePermission
        return {"whatif": "viewer", "fit": "viewer", "activate": "admin"}.get(getattr(self, "action", ""), "curator")

    @extend_schema(request=CalibrationSaveSerializer, responses={201: CalibrationSerializer})
    def create(self, request, *args, **kwargs):
        data = CalibrationSaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            row = cal_services.calibration_version_save(user=request.user, proposal=data.proposal(), label=data.validated_data["label"])
        except cal_services.CalibrationVersionError as exc:
            raise field_error(exc.field, exc.message) from None
        return Response(CalibrationSerializer(self.get_queryset().get(pk=row.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProposalSerializer, responses={200: WhatIfSerializer})
    @action(detail=False, methods=["post"])
    def whatif(self, request):
        """Rho, per-group rho, bucket counts, curve, band and disagreements for proposed weights."""
        data = ProposalSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        evidence, pool = wsel.workbench_data()
        result = wb.whatif(evidence, pool, data.proposal(), max_points=0)
        return Response(WhatIfSerializer(result).data)

    @extend_schema(request=ProposalSerializer, responses={200: FitSerializer})
    @action(detail=False, methods=["post"])
    def fit(self, request):
        """Non-negative weights summing to 1, with in-sample and cross-validated rho."""
        data = ProposalSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = wb.fit_weights(wsel.workbench_data()[0], data.proposal())
        except wb.WorkbenchError as exc:
            raise field_error(exc.field, exc.message) from None
        return Response(FitSerializer(result).data)

    @extend_schema(request=None, responses={202: StageRunRefSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """Start the job that makes this version active and re-buckets every scored problem."""
        row = self.get_object()
        run = cal_services.calibration_version_activate(user=request.user, calibration_id=row.pk)
        return Response({"id": run.pk, "stage": run.stage, "status": run.status}, status=status.HTTP_202_ACCEPTED)


class SelectionPreviewRequestSerializer(serializers.Serializer):
    policy = serializers.ChoiceField(choices=["target_easy_share", "cutoff", "keep_fraction"], default="target_easy_share")
    target_easy_share = serializers.FloatField(min_value=0, max_value=0.999, required=False)
    max_pass_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
    keep_fraction = serializers.FloatField(min_value=0.001, max_value=1, required=False)
    keep_unscored = serializers.BooleanField(default=True)


class BeforeAfterSerializer(serializers.Serializer):
    before = serializers.IntegerField()
    after = serializers.IntegerField()


class ProblemRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class SelectionPreviewSerializer(serializers.Serializer):
    policy = serializers.DictField()
    total = serializers.IntegerField()
    kept = serializers.IntegerField()
    dropped = serializers.IntegerField()
    kept_fraction = serializers.FloatField()
    easy_share_before = serializers.FloatField()
    easy_share_after = serializers.FloatField()
    by_bucket = serializers.DictField(child=BeforeAfterSerializer())
    by_source = serializers.DictField(child=BeforeAfterSerializer())
    thresholds = serializers.DictField(child=serializers.FloatField())
    current = serializers.DictField(allow_null=True)
    entering_count = serializers.IntegerField()
    leaving_count = serializers.IntegerField()
    entering = ProblemRefSerializer(many=True)
    leaving = ProblemRefSerializer(many=True)


class SelectionPreviewView(JsonErrorsMixin, APIView):
    """POST a policy: what it would keep (by bucket and source, before and after) and which problems
    enter and leave compared with the current selection. Nothing is stored."""

    permission_classes = [RolePermission]
    schema = ApiAutoSchema()
    write_role = "viewer"

    @extend_schema(request=SelectionPreviewRequestSerializer, responses={200: SelectionPreviewSerializer}, operation_id="selection_previews_create")
    def post(self, request):
        data = SelectionPreviewRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = {k: v for k, v in data.validated_data.items()}
        try:
            preview = sel_services.selection_preview(params)
        except wb.WorkbenchError as exc:
            raise field_error(exc.field, exc.message) from None
        return Response(SelectionPreviewSerializer(preview).data)
