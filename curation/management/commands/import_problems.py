import json

from django.core.management.base import BaseCommand, CommandError

from curation.management.stage_command import run_wait
from curation.services import imports


class Command(BaseCommand):
    help = "Import problems from a dataset file or folder (runs as a Celery task unless --sync)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--format", required=True, dest="format_name", help="importer format name")
        parser.add_argument("--source", default=None, help="source name (default: from the format)")
        parser.add_argument("--sync", action="store_true", help="run inline instead of on a worker")
        parser.add_argument("--no-wait", action="store_true", help="enqueue and return at once")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the worker")

    def handle(self, path, format_name, source, sync, no_wait, json, timeout, **options):
        try:
            run = imports.import_run_create(path=path, format_name=format_name, source_name=source)
        except imports.ImportRequestError as exc:
            raise CommandError(str(exc)) from exc
        if sync:
            run = imports.import_run_execute(run.pk)
        else:
            imports.import_run_enqueue(run)
            if no_wait:
                self._print({"id": run.pk, "status": run.status}, json)
                return
            run = run_wait(self, run, "import run", timeout, quiet=json)
        self._print(run.summary(), json)
        if run.status == "failed":
            raise CommandError(f"import run {run.pk} failed: {run.message}")

    def _print(self, summary: dict, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        self.stdout.write(
            f"import run {summary['id']}: {summary['status']} — created {summary.get('created', 0)}, "
            f"updated {summary.get('updated', 0)}, unchanged {summary.get('unchanged', 0)}, failed {summary.get('failed', 0)}"
        )
        for error in summary.get("errors", [])[:50]:
            where = f"{error['file']}: {error['record']}" + (f": field '{error['field']}'" if error["field"] else "")
            self.stdout.write(f"  failed: {where}: {error['message']}")
