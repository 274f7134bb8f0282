"""Set up a demo: role groups, the default rubric, a curator account, and the bundled sample."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from curation.services import accounts, imports, stages

SAMPLE_DIR = Path(settings.BASE_DIR) / "sample_data"
SAMPLES = [
    (SAMPLE_DIR / "codecontests", "codecontests-dir"),
    (SAMPLE_DIR / "leetcode" / "LeetCodeDataset-v0.3.1-sample.jsonl.gz", "leetcodedataset"),
]


class Command(BaseCommand):
    help = "Create role groups, a demo curator (printed) and import the bundled sample problems."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="curator")
        parser.add_argument("--password", default="microcoder-demo")

    def handle(self, username, password, **options):
        accounts.roles_ensure()
        created = accounts.demo_user_ensure(username=username, password=password)
        for path, format_name in SAMPLES:
            run = imports.import_run_create(path=str(path), format_name=format_name)
            run = imports.import_run_execute(run.pk)
            s = run.summary()
            self.stdout.write(
                f"sample {path.name}: created {s['created']}, updated {s['updated']}, unchanged {s['unchanged']}, failed {s['failed']}"
            )
        # The offline pipeline, so the workspace has something to show: process the sample, train
        # the features model on its labels (no LLM endpoint needed) and predict difficulty.
        for stage, params in (("process", {}), ("train_features", {}), ("predict", {"predictor": "features"})):
            run = stages.stage_run_execute(stages.stage_run_create(stage=stage, params=params).pk)
            self.stdout.write(f"{stage}: {run.status} {run.counts if stage != 'process' else ''}".rstrip())
        state = "created" if created else "exists"
        self.stdout.write(self.style.SUCCESS(f"demo curator ({state}): username '{username}', password '{password}'"))
