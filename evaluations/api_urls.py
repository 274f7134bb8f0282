"""Mounted at /api/v1/ before the project API (whose catch-all answers the rest)."""
from rest_framework.routers import SimpleRouter

from .api import EvalRunViewSet

router = SimpleRouter()
router.register("evaluations", EvalRunViewSet, basename="api-evaluation")

urlpatterns = router.urls
