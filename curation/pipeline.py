"""The stage map: for each pipeline stage, the service that runs it, its Celery task, the queue
that task runs on, its command and the stages it needs first. Written once, here; read by the
pipeline page and its form, the stage commands, `services/stages.py` (start and run), the Celery
router (`route_task`, named in settings.CELERY_TASK_ROUTES) and the task module, which defines
one explicitly named task per stage. `CurationConfig.ready()` calls `stages_register()` once at
app start, which resolves every service and checks the map.

Stages of kind `STAGE_RUN` are `StageRun` rows started by `services.stages.stage_run_start` and
run by their executor `fn(run)`. The others keep their own row and start function (imports,
snapshots, exports) and are listed so the order and queues are known in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from django.utils.module_loading import import_string

from curation.errors import DomainError

QUEUES = ("default", "llm", "sandbox", "jobs")
STAGE_RUN = "stage_run"  # a StageRun row, started through services.stages
OWN_ROW = "own_row"  # its own row and start service (ImportRun, DatasetSnapshot, Export)


@dataclass(frozen=True)
class Stage:
    name: str
    label: str
    service: str  # dotted path: the executor `fn(run)` (STAGE_RUN) or the row's execute function
    task: str | None  # the Celery task's explicit name (None: runs in the request or command)
    queue: str | None  # where that task runs: sandbox for judging, llm for model calls
    command: str  # manage.py command
    prerequisites: tuple[str, ...] = ()
    kind: str = STAGE_RUN
    steps: tuple[str, ...] = ()  # sub-steps a run may be limited to (process)
    on_pipeline_page: bool = False  # a "run on all problems" button

    def executor(self) -> Callable:
        return _resolved.get(self.name) or import_string(self.service)


PROCESS_STEPS = ("normalize", "samples", "tests", "dedup", "decontam")

STAGES: tuple[Stage, ...] = (
    Stage("collect", "Import", "curation.services.imports.import_run_execute",
          "curation.tasks.imports.import_problems_task", "default", "import_problems", kind=OWN_ROW),
    Stage("process", "Process", "curation.services.processing.process_execute", "curation.stage.process",
          "default", "process_problems", ("collect",), steps=PROCESS_STEPS, on_pipeline_page=True),
    Stage("verify", "Verify", "curation.services.verification.verify_execute", "curation.stage.verify",
          "sandbox", "verify_problems", ("process",), on_pipeline_page=True),
    # Synthesise checkers for problems verification could not settle: asks the LLM, then keeps a
    # candidate only if it passes the mutation test in the sandbox, hence the sandbox queue.
    Stage("checkers", "Checkers", "curation.services.checkers.checkers_execute", "curation.stage.checkers",
          "sandbox", "synthesize_checkers", ("verify",), on_pipeline_page=False),
    Stage("train_features", "Train features model", "curation.services.prediction.train_features_execute",
          "curation.stage.train_features", "default", "train_difficulty_model", ("collect",)),
    Stage("predict", "Predict", "curation.services.prediction.predict_execute", "curation.stage.predict",
          "llm", "predict_difficulty", ("process",), on_pipeline_page=True),
    # Measuring samples the model and judges its answers in the same task: it runs on the sandbox
    # queue, because only the sandbox worker is set up for bubblewrap (the llm worker is not).
    Stage("measure", "Measure", "curation.services.pass_rates.measure_execute", "curation.stage.measure",
          "sandbox", "measure_pass_rates", ("verify",), on_pipeline_page=True),
    Stage("calibrate", "Calibrate", "curation.services.calibration.calibrate_execute", "curation.stage.calibrate",
          "default", "calibrate_difficulty", ("predict", "measure"), on_pipeline_page=True),
    Stage("select", "Select", "curation.services.selection.select_execute", "curation.stage.select",
          "default", "select_problems", ("calibrate",), on_pipeline_page=True),
    # Workbench jobs (the calibration and selection pages start them; no command of their own).
    Stage("calibration_activate", "Activate calibration", "curation.services.calibration_versions.calibration_activate_execute",
          "curation.stage.calibration_activate", "default", "", ("calibrate",)),
    Stage("selection_apply", "Apply selection", "curation.services.selection_versions.selection_apply_execute",
          "curation.stage.selection_apply", "default", "", ("calibrate",)),
    Stage("snapshot", "Snapshot", "curation.services.snapshots.snapshot_create", None, None,
          "create_snapshot", ("select",), kind=OWN_ROW),
    Stage("export", "Export", "curation.services.exports.export_execute",
          "curation.tasks.exports.export_run_task", "default", "export_snapshot", ("snapshot",), kind=OWN_ROW),
)
BY_NAME: dict[str, Stage] = {s.name: s for s in STAGES}

# Tasks that belong to no stage, and their queues (the router reads both tables).
OTHER_TASKS: dict[str, str] = {
    "curation.tasks.bulk.bulk_action_task": "default",
    "curation.tasks.webhooks.webhook_deliver_task": "default",
    "curation.tasks.maintenance.expire_review_leases": "default",
}
TASK_QUEUES: dict[str, str] = {
    **{s.task: s.queue for s in STAGES if s.task and s.queue},
    **OTHER_TASKS,
}

_resolved: dict[str, Callable] = {}


class UnknownStageError(DomainError):
    pass


def stage_get(name: str) -> Stage:
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownStageError(f"unknown stage '{name}'; known stages: {', '.join(stage_run_names())}") from None


def stage_run_names() -> list[str]:
    """Stages started as StageRun rows (commands, the pipeline page, bulk actions)."""
    return [s.name for s in STAGES if s.kind == STAGE_RUN]


def pipeline_page_stages() -> list[Stage]:
    return [s for s in STAGES if s.on_pipeline_page]


def route_task(name, args=None, kwargs=None, options=None, task=None, **kw):
    """Celery router: a task goes to the queue the map declares, whoever sends it and however
    (a bare `.delay()` of the verify task lands on `sandbox`, where the judge is)."""
    queue = TASK_QUEUES.get(name)
    return {"queue": queue} if queue else None


def stages_register() -> None:
    """Resolve every stage's service once and check the map (called from AppConfig.ready)."""
    for stage in STAGES:
        if stage.queue is not None and stage.queue not in QUEUES:
            raise ValueError(f"stage {stage.name}: unknown queue {stage.queue!r}")
        for pre in stage.prerequisites:
            if pre not in BY_NAME:
                raise ValueError(f"stage {stage.name}: unknown prerequisite {pre!r}")
        _resolved[stage.name] = import_string(stage.service)
