"""Export a snapshot to a file (in this process with --now, otherwise as a Celery job).

    manage.py export_snapshot SNAPSHOT_ID FORMAT [--option split_by=hash --option validation_fraction=0.1] [--now]
"""
import json

from django.core.management.base import BaseCommand, CommandError
from django.conf import settings

from curation.exports import EXPORT_FORMATS, ExportOptionsError
from curation.models import DatasetSnapshot
from curation.services.exports import export_create, export_execute


class Command(BaseCommand):
    help = "Export a snapshot (" + ", ".join(EXPORT_FORMATS) + ")"

    def add_arguments(self, parser):
        parser.add_argument("snapshot", type=int)
        parser.add_argument("format", choices=EXPORT_FORMATS)
        parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument("--now", action="store_true", help="write the file in this process")

    def handle(self, *args, **opts):
        snapshot = DatasetSnapshot.objects.filter(pk=opts["snapshot"]).first()
        if snapshot is None:
            raise CommandError(f"snapshot {opts['snapshot']} does not exist")
        options = {}
        for item in opts["option"]:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--option expects KEY=VALUE, got {item!r}")
            try:
                options[key] = json.loads(value)
            except json.JSONDecodeError:
                options[key] = value
        try:
            export = export_create(snapshot=snapshot, format=opts["format"], user=None, options=options)
        except ExportOptionsError as exc:
            raise CommandError(str(exc)) from None
        if not opts["now"]:
            self.stdout.write(f"export {export.pk} queued")
            return
        export = export_execute(export.pk)
        if export.status != "succeeded":
            raise CommandError(f"export {export.pk} {export.status}: {export.message}")
        self.stdout.write(f"export {export.pk}: {settings.MEDIA_ROOT}/{export.file} ({export.size_bytes} bytes, sha256 {export.sha256})")
