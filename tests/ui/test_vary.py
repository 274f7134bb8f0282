"""Every view that may answer with an htmx partial says so in Vary, for the page and the partial."""
import pytest
from django.urls import reverse

from curation.models import ImportRun, Source, StageRun

pytestmark = pytest.mark.django_db


def test_partial_views_vary_on_hx_request(client, users):
    stage_run = StageRun.objects.create(stage="process", status="running")
    import_run = ImportRun.objects.create(source=Source.objects.create(name="s"), file_path="x", format="canonical-jsonl", status="running")
    client.force_login(users["viewer"])
    views = [
        (reverse("curation:problem_list"), "results"),
        (reverse("curation:dashboard"), "jobs"),
        (reverse("curation:stage_run_detail", args=[stage_run.pk]), f"job-{stage_run.pk}"),
        (reverse("curation:import_run_detail", args=[import_run.pk]), f"job-{import_run.pk}"),
    ]
    for url, target in views:
        page = client.get(url)
        partial = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)
        assert page.status_code == partial.status_code == 200, url
        assert len(partial.content) < len(page.content), f"{url} answered htmx with the whole page"
        for response in (page, partial):
            assert "HX-Request" in response.get("Vary", ""), url
