"""Set up a demo that shows the whole product on first open (`make run` calls this).

Role groups, the default rubric and a curator account; the bundled sample imported and
processed; difficulty predicted offline (the features model, trained on the sample's own labels:
no LLM endpoint needed); the shipped pass-rate evidence imported; a calibration fitted and a
selection applied, so every dashboard, calibration and selection chart has data. Verification
needs the sandbox: by default it is queued as a real verify run that the Celery worker started by
`make run` picks up, so the web server is up at once and the dashboard's Jobs table shows its
progress. Re-running is safe: every step skips what is already there.
"""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from curation.models import Calibration, PassRateMeasurement, Problem, Selection, StageRun, VerificationStatus
from curation.services import accounts, imports, stages
from curation.services.pass_rates import pass_rates_import

SAMPLE_DIR = Path(settings.BASE_DIR) / "sample_data"
SAMPLES = [
    (SAMPLE_DIR / "codecontests", "codecontests-dir"),
    (SAMPLE_DIR / "leetcode" / "LeetCodeDataset-v0.3.1-sample.jsonl.gz", "leetcodedataset"),
]
# Graded lists from judging each sample problem's reference solution and deterministic mutants of
# it in our sandbox (sample_data/generate_graded_mutants.py; see sample_data/ATTRIBUTION.md).
# Not a model's output: a real model's graded file, imported with `import_pass_rates`, replaces it.
GRADED_FILE = SAMPLE_DIR / "graded_mutants.jsonl"
GRADED_MODEL = "reference+ast-mutants-v1"
DEMO_SELECTION = "demo: target 20% easy"


def sandbox_usable() -> tuple[bool, str]:
    from curation.judge import bwrap_status
    from curation.services.verification import sandbox_config

    return bwrap_status(sandbox_config())


class Command(BaseCommand):
    help = "Create role groups, a demo curator (printed), import the bundled sample and run the pipeline on it."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="curator")
        parser.add_argument("--password", default="microcoder-demo")
        parser.add_argument(
            "--verify", choices=["queue", "sync", "skip"], default="queue",
            help="queue: a verify run for the worker (default, `make run` starts one); sync: judge here, now; skip",
        )

    def handle(self, username, password, verify, **options):
        accounts.roles_ensure()
        created = accounts.demo_user_ensure(username=username, password=password)
        for path, format_name in SAMPLES:
            run = imports.import_run_create(path=str(path), format_name=format_name)
            run = imports.import_run_execute(run.pk)
            s = run.summary()
            self.stdout.write(
                f"sample {path.name}: created {s['created']}, updated {s['updated']}, unchanged {s['unchanged']}, failed {s['failed']}"
            )
        # The offline pipeline: process the sample, train the features model on its labels and
        # predict difficulty with it (cached by content hash, so a re-run predicts nothing new).
        for stage, params in (("process", {}), ("train_features", {}), ("predict", {"predictor": "features"})):
            run = stages.stage_run_execute(stages.stage_run_create(stage=stage, params=params).pk)
            self.stdout.write(f"{stage}: {run.status} {run.counts if stage != 'process' else ''}".rstrip())
        self.pass_rates()
        self.calibrate_and_select()
        self.verify(verify)
        state = "created" if created else "exists"
        self.stdout.write(self.style.SUCCESS(f"demo curator ({state}): username '{username}', password '{password}'"))

    def pass_rates(self) -> None:
        if PassRateMeasurement.objects.filter(model=GRADED_MODEL, origin="imported").exists():
            self.stdout.write(f"pass rates: {GRADED_MODEL} already imported")
            return
        summary = pass_rates_import(path=str(GRADED_FILE), model=GRADED_MODEL)
        self.stdout.write(
            f"pass rates: {summary['measurements']} measurements from {GRADED_FILE.name} "
            f"(reference + mutants judged in our sandbox, not a model; see sample_data/ATTRIBUTION.md)"
        )

    def calibrate_and_select(self) -> None:
        if Calibration.objects.filter(is_active=True).exists():
            self.stdout.write("calibrate: an active calibration exists")
        else:
            run = stages.stage_run_execute(stages.stage_run_create(stage="calibrate", params={"method": "isotonic"}).pk)
            self.stdout.write(f"calibrate: {run.status} {run.counts}" + (f" {run.message}" if run.message else ""))
        if Selection.objects.filter(name=DEMO_SELECTION).exists():
            self.stdout.write(f"select: '{DEMO_SELECTION}' exists")
        elif Calibration.objects.filter(is_active=True).exists():
            params = {"name": DEMO_SELECTION, "policy": "target_easy_share", "target_easy_share": 0.2}
            run = stages.stage_run_execute(stages.stage_run_create(stage="select", params=params).pk)
            kept = (run.counts.get("summary") or {}).get("kept")
            self.stdout.write(f"select: {run.status}, '{DEMO_SELECTION}' keeps {kept} problems")

    def verify(self, mode: str) -> None:
        if mode == "skip":
            self.stdout.write("verify: skipped (--verify skip)")
            return
        usable, reason = sandbox_usable()
        if not usable:
            # Said loudly here and on the dashboard (which checks the sandbox itself): the problems
            # stay "unverified" until a machine with working bubblewrap runs `verify_problems`.
            self.stdout.write(self.style.WARNING(
                f"verify: SKIPPED, the bubblewrap sandbox does not work here ({reason}); problems stay unverified"
            ))
            return
        ids = list(Problem.objects.filter(verification_status=VerificationStatus.UNVERIFIED).order_by("pk").values_list("pk", flat=True))
        if not ids:
            self.stdout.write("verify: every sample problem has been verified")
            return
        waiting = StageRun.objects.filter(stage="verify", status__in=["pending", "running"]).first()
        if mode == "queue" and waiting is not None:
            self.stdout.write(f"verify: run #{waiting.pk} is already {waiting.status}")
            return
        if mode == "sync":
            run = stages.stage_run_execute(stages.stage_run_create(stage="verify", problem_ids=ids).pk)
            self.stdout.write(f"verify: {run.status} {run.counts}")
            return
        with transaction.atomic():
            run = stages.stage_run_start(stage="verify", problem_ids=ids)
        self.stdout.write(
            f"verify: run #{run.pk} queued for {len(ids)} problems; the Celery worker judges them in the sandbox "
            f"(about a minute) and the dashboard's Jobs table shows its progress"
        )
