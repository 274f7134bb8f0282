"""Freeze problems as a new version of a named snapshot.

    manage.py create_snapshot NAME [--selection ID] [--filter bucket=hard --filter source=taco ...]
                                   [--benchmark livecodebench ...] [--cutoff 2024-08-01]
"""
from django.core.management.base import BaseCommand, CommandError

from curation.models import Selection
from curation.services.snapshots import SnapshotCriteriaError, snapshot_create


class Command(BaseCommand):
    help = "Create an immutable, versioned dataset snapshot"

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--selection", type=int)
        parser.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE",
                            help="a problem filter, as in the workspace query string (repeatable)")
        parser.add_argument("--benchmark", action="append", default=[], help="decontaminated against (repeatable)")
        parser.add_argument("--cutoff", help="decontamination cut-off date, YYYY-MM-DD")

    def handle(self, *args, **opts):
        filters: dict = {}
        for item in opts["filter"]:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--filter expects KEY=VALUE, got {item!r}")
            filters.setdefault(key, []).append(value)
        filters = {k: v[0] if len(v) == 1 else v for k, v in filters.items()}
        selection = None
        if opts["selection"]:
            selection = Selection.objects.filter(pk=opts["selection"]).first()
            if selection is None:
                raise CommandError(f"selection {opts['selection']} does not exist")
        decontamination = None
        if opts["benchmark"] or opts["cutoff"]:
            decontamination = {"benchmarks": opts["benchmark"], "cutoff_date": opts["cutoff"]}
        try:
            snap = snapshot_create(name=opts["name"], user=None, selection=selection, filters=filters or None,
                                   decontamination=decontamination)
        except SnapshotCriteriaError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"snapshot {snap.pk}: {snap.name} v{snap.version}, {snap.problem_count} problems, {snap.content_hash}")
