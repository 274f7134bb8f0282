from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from training_jobs import api as training_api

from . import views, workbench
from .exceptions import api_not_found


@extend_schema_view(get=extend_schema(exclude=True))
class ApiSchemaView(SpectacularAPIView):
    """The schema itself is served here but not listed in it (it describes the API, not a resource)."""


router = SimpleRouter()
router.register("problems", views.ProblemViewSet, basename="api-problem")
router.register("tests", views.TestCaseViewSet, basename="api-test")
router.register("solutions", views.ReferenceSolutionViewSet, basename="api-solution")
router.register("predictions", views.PredictionViewSet, basename="api-prediction")
router.register("verification-runs", views.VerificationRunViewSet, basename="api-verification-run")
router.register("reviews", views.ReviewViewSet, basename="api-review")
router.register("selections", views.SelectionViewSet, basename="api-selection")
router.register("snapshots", views.SnapshotViewSet, basename="api-snapshot")
router.register("exports", views.ExportViewSet, basename="api-export")
router.register("import-runs", views.ImportRunViewSet, basename="api-import-run")
router.register("stage-runs", views.StageRunViewSet, basename="api-stage-run")
router.register("webhooks", views.WebhookViewSet, basename="api-webhook")
router.register("webhook-deliveries", views.WebhookDeliveryViewSet, basename="api-webhook-delivery")
router.register("training-runs", training_api.TrainingRunViewSet, basename="api-training-run")
router.register("compute-targets", training_api.ComputeTargetViewSet, basename="api-compute-target")
router.register("calibrations", workbench.CalibrationViewSet, basename="api-calibration")

urlpatterns = [
    path("schema/", ApiSchemaView.as_view(), name="api-schema"),
    # The split view serves its start-up code as a separate script: no inline <script> (CSP).
    # Swagger UI (vendored by drf-spectacular-sidecar) injects one <style> element at run time:
    # on this page only, inline style elements are allowed; scripts stay 'self'.
    path(
        "docs/",
        csp_update({"style-src-elem": ["'self'", "'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("auth/token/", views.AuthTokenView.as_view(), name="api-auth-token"),
    path("selection-previews/", workbench.SelectionPreviewView.as_view(), name="api-selection-preview"),
    *router.urls,
    # Anything else under /api/v1/ is a JSON 404, not Django's HTML page.
    re_path(r"^(?P<path>[\s\S]*)$", api_not_found),
]
