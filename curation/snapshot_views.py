"""Snapshots and exports in the browser: list, create (a background job), manifest, diff, export
with progress, download. Thin: selectors read, services write; curators create, viewers look."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from curation import selectors
from curation.exports import EXPORT_FORMATS, ExportOptionsError
from curation.models import DatasetSnapshot, Export
from curation.roles import role_required, user_has_role
from curation.services import exports as export_services
from curation.services import snapshot_jobs
from curation.services.snapshots import SnapshotCriteriaError, snapshot_diff
from curation.templatetags.partials import partial_render

EXPORT_PAGE_TEMPLATE = "curation/snapshots/export.html"


def _snapshot_or_404(snapshot_id: int) -> DatasetSnapshot:
    snapshot = DatasetSnapshot.objects.select_related("created_by", "selection").filter(pk=snapshot_id).first()
    if snapshot is None:
        raise Http404("no such snapshot")
    return snapshot


@require_GET
@role_required("viewer")
def snapshot_list(request):
    context = {
        "snapshots": DatasetSnapshot.objects.select_related("created_by").order_by("-created_at")[:100],
        "jobs": selectors.stage_runs_recent(stage="snapshot"),
        "saved_views": selectors.saved_views_for_user(request.user),
        "selections": selectors.selections_recent(),
        "query": request.GET.get("query", ""),
        "can_create": user_has_role(request.user, "curator"),
    }
    return render(request, "curation/snapshots/list.html", context)


@require_POST
@role_required("curator")
def snapshot_create_view(request):
    """From a filter (a list query string), a saved view (its query) or a selection."""
    query = request.POST.get("query", "")
    view_id = request.POST.get("saved_view") or ""
    if view_id:
        view = selectors.saved_views_for_user(request.user).filter(pk=int(view_id) if view_id.isdigit() else 0).first()
        if view is None:
            raise Http404("no such saved view")
        query = view.query
    selection = request.POST.get("selection") or ""
    try:
        run = snapshot_jobs.snapshot_job_start(
            user=request.user, name=request.POST.get("name", ""), query=query,
            selection_id=int(selection) if selection.isdigit() else None,
        )
    except SnapshotCriteriaError as exc:
        messages.error(request, f"Snapshot not started — {exc.field}: {exc.message}")
        return redirect(reverse("curation:snapshot_list") + (f"?query={query}" if query else ""))
    messages.success(request, f"Snapshot “{run.params['name']}” started: {run.total} problems to freeze.")
    return redirect("curation:stage_run_detail", run_id=run.pk)


@require_GET
@role_required("viewer")
def snapshot_detail(request, snapshot_id: int):
    snapshot = _snapshot_or_404(snapshot_id)
    others = DatasetSnapshot.objects.exclude(pk=snapshot.pk).order_by("-created_at")[:100]
    diff = other = None
    other_id = request.GET.get("other", "")
    if other_id.isdigit():
        other = DatasetSnapshot.objects.filter(pk=int(other_id)).first()
        if other is None:
            raise Http404("no such snapshot to compare with")
        diff = snapshot_diff(snapshot, other)
    context = {
        "snapshot": snapshot,
        "others": others,
        "other": other,
        "diff": diff,
        "exports": Export.objects.filter(snapshot=snapshot).select_related("created_by").order_by("-created_at")[:50],
        "formats": EXPORT_FORMATS,
        "can_create": user_has_role(request.user, "curator"),
    }
    return render(request, "curation/snapshots/detail.html", context)


@require_POST
@role_required("curator")
def export_create_view(request, snapshot_id: int):
    snapshot = _snapshot_or_404(snapshot_id)
    try:
        export = export_services.export_create(snapshot=snapshot, format=request.POST.get("format", ""), user=request.user)
    except ExportOptionsError as exc:
        messages.error(request, f"Export not started — {exc.field}: {exc.message}")
        return redirect("curation:snapshot_detail", snapshot_id=snapshot.pk)
    messages.success(request, f"Export #{export.pk} ({export.format}) started.")
    return redirect("curation:export_detail", export_id=export.pk)


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
@role_required("viewer")
def export_detail(request, export_id: int):
    export = Export.objects.select_related("snapshot", "created_by").filter(pk=export_id).first()
    if export is None:
        raise Http404("no such export")
    context = {"export": export, "download_url": reverse("api-export-download", args=[export.pk])}
    if getattr(request, "htmx", None) and request.htmx.target == f"export-{export.pk}":
        return partial_render(request, EXPORT_PAGE_TEMPLATE, "progress", context)
    return render(request, EXPORT_PAGE_TEMPLATE, context)
