"""Saved views: a named filter query string per user."""
from __future__ import annotations

from django.db import transaction
from django.http import QueryDict

from curation.errors import DomainError
from curation.models import SavedView
from curation.selectors import filter_query_string
from curation.services.audit import audit_event_record


SORT_KEYS = ("id", "title", "contest_date", "weighted_score", "pass_rate", "updated_at")


class SavedViewError(DomainError):
    pass


def saved_view_save(*, user, name: str, query: str, ordering: str = "", overwrite: bool = False) -> SavedView:
    """Create the named view (filters and sort), or replace the user's view of that name — only
    when `overwrite` says so: a name clash is never a silent overwrite."""
    name = (name or "").strip()
    if not name:
        raise SavedViewError("give the view a name")
    if len(name) > 100:
        raise SavedViewError("names are at most 100 characters")
    query = filter_query_string(QueryDict(query.lstrip("?")))
    ordering = (ordering or "").strip()
    if ordering:
        if ordering.lstrip("-") not in SORT_KEYS:
            raise SavedViewError(f"unknown sort '{ordering}'")
        query = f"{query}&ordering={ordering}" if query else f"ordering={ordering}"
    with transaction.atomic():
        existing = SavedView.objects.select_for_update().filter(user=user, name=name).first()
        if existing is not None and not overwrite:
            raise SavedViewError(f"you already have a view named “{name}”; tick “replace” to overwrite it, or choose another name")
        view, created = SavedView.objects.update_or_create(user=user, name=name, defaults={"query": query})
        audit_event_record(actor=user, action="saved_view_create" if created else "saved_view_update", target=view, after={"name": name, "query": query})
    return view


def saved_view_delete(*, user, view_id: int) -> None:
    with transaction.atomic():
        view = SavedView.objects.select_for_update().filter(pk=view_id, user=user).first()
        if view is None:
            raise SavedViewError("no such saved view")
        audit_event_record(actor=user, action="saved_view_delete", target=view, before={"name": view.name, "query": view.query})
        view.delete()
