"""The project's URLs plus one view that fails, for checking the production 500 page."""
from django.urls import path

from microcoder_site.urls import handler403, handler404, handler500, urlpatterns as project_urls  # noqa: F401


def boom(request):
    raise RuntimeError("deliberate failure for the 500 page check")


urlpatterns = [path("boom/", boom), *project_urls]
