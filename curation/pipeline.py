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
from typing import Any, Callable
from urllib.parse import urlsplit

from django.utils.module_loading import import_string

from curation.errors import DomainError, FieldError

QUEUES = ("default", "llm", "sandbox", "jobs")
STAGE_RUN = "stage_run"  # a StageRun row, started through services.stages
OWN_ROW = "own_row"  # its own row and start service (ImportRun, DatasetSnapshot, Export)


class OptionError(FieldError):
    """An option value the stage refuses; `field` names the option (the form field and the flag)."""

    @property
    def reason(self) -> str:
        return self.message


@dataclass(frozen=True)
class Option:
    """One option of a stage, declared once: the stage's command adds it as `--flag` (argparse calls
    `parse` as the type, so a bad value fails with the same words), and the pipeline page renders it
    as a form field and checks what is posted with `stage_options_parse`, the same `parse`."""

    name: str  # the form field and dest; the flag is --name-with-dashes
    kind: str  # "int" | "float" | "str" | "choice" | "bool" | "url"
    help: str
    default: Any = None
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    param: str = ""  # its key in the run's params when not `name`; "step" is the run's step instead
    always: bool = False  # stored even when left at its default (the executor reads it unconditionally)
    label: str = ""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def key(self) -> str:
        return self.param or self.name

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def parse(self, raw: Any) -> Any:
        """The typed value of `raw` (a string from a form or the command line), or OptionError.
        Empty means the default."""
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw or "").strip().lower()
            if text in ("", "0", "false", "off", "no"):
                return False
            if text in ("1", "true", "on", "yes"):
                return True
            raise OptionError(self.name, f"expected on or off, got {str(raw)[:40]!r}")
        text = "" if raw is None else str(raw).strip()
        if text == "":
            return self.default
        if self.kind == "int":
            try:
                value: Any = int(text)
            except ValueError:
                raise OptionError(self.name, f"expected a whole number, got {text[:40]!r}") from None
        elif self.kind == "float":
            try:
                value = float(text)
            except ValueError:
                raise OptionError(self.name, f"expected a number, got {text[:40]!r}") from None
            if value != value or value in (float("inf"), float("-inf")):
                raise OptionError(self.name, "expected a finite number")
        elif self.kind == "choice":
            if text not in self.choices:
                raise OptionError(self.name, f"{text[:40]!r} is not one of {', '.join(self.choices)}")
            value = text
        elif self.kind == "url":
            parts = urlsplit(text)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise OptionError(self.name, "expected an http(s) URL such as http://127.0.0.1:8001/v1")
            value = text
        else:
            if len(text) > 200:
                raise OptionError(self.name, "at most 200 characters")
            value = text
        if self.min is not None and value < self.min:
            raise OptionError(self.name, f"must be at least {self.min:g}")
        if self.max is not None and value > self.max:
            raise OptionError(self.name, f"must be at most {self.max:g}")
        return value


def _opt(name: str, kind: str, help: str, **kw) -> Option:
    if kind == "bool":
        kw.setdefault("default", False)  # a flag: off unless given
    return Option(name, kind, help, **kw)


# Shared by the stages that call a model endpoint (the API key comes from settings, never a run row).
_LLM_OPTIONS = (
    _opt("base_url", "url", "OpenAI-compatible endpoint (default: LLM_BASE_URL)", label="Base URL"),
    _opt("model", "str", "model name (default: LLM_MODEL)"),
    _opt("concurrency", "int", "requests in flight at once (default: LLM_CONCURRENCY)", min=1, max=256),
)


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
    description: str = ""  # what the stage does: the command's help and the pipeline page's text
    options: tuple[Option, ...] = ()  # its command's own flags and the page's form fields

    @property
    def options_by_name(self) -> dict[str, Option]:
        return {o.name: o for o in self.options}

    def executor(self) -> Callable:
        return _resolved.get(self.name) or import_string(self.service)


PROCESS_STEPS = ("normalize", "samples", "tests", "dedup", "decontam")

STAGES: tuple[Stage, ...] = (
    Stage("collect", "Import", "curation.services.imports.import_run_execute",
          "curation.tasks.imports.import_problems_task", "default", "import_problems", kind=OWN_ROW,
          description="Import problems from a file in a registered format; unchanged problems are left alone."),
    Stage("process", "Process", "curation.services.processing.process_execute", "curation.stage.process",
          "default", "process_problems", ("collect",), steps=PROCESS_STEPS, on_pipeline_page=True,
          description="Process problems: normalise statements, extract samples, clean tests, find duplicates "
                      "and decontaminate against benchmarks.",
          options=(_opt("step", "choice", "run one step (default: all, in order)", default="", choices=PROCESS_STEPS,
                        param="step"),)),
    Stage("verify", "Verify", "curation.services.verification.verify_execute", "curation.stage.verify",
          "sandbox", "verify_problems", ("process",), on_pipeline_page=True,
          description="Verify problems: run every reference solution on its tests in the sandbox and classify "
                      "the problem (verified, needs a checker, inconsistent tests, no reference, ...).",
          options=(_opt("parallel", "int", "problems judged at once (default: VERIFY_PARALLELISM)", min=1, max=64),)),
    # Synthesise checkers for problems verification could not settle: asks the LLM, then keeps a
    # candidate only if it passes the mutation test in the sandbox, hence the sandbox queue.
    Stage("checkers", "Checkers", "curation.services.checkers.checkers_execute", "curation.stage.checkers",
          "sandbox", "synthesize_checkers", ("verify",), on_pipeline_page=False,
          description="Synthesise output checkers with the configured LLM for problems that accept many answers "
                      "(default: those verification found needing a checker or with inconsistent tests); each "
                      "candidate is kept only if the sandbox shows it accepts every valid answer and rejects mutated ones.",
          options=(_opt("approve_valid", "bool", "approve every candidate that validates (default: curators approve "
                                                 "on the problem page)"),)),
    Stage("train_features", "Train features model", "curation.services.prediction.train_features_execute",
          "curation.stage.train_features", "default", "train_difficulty_model", ("collect",),
          description="Train the offline features model on labelled problems (it predicts difficulty without an LLM); "
                      "prints its cross-validated accuracy."),
    Stage("predict", "Predict", "curation.services.prediction.predict_execute", "curation.stage.predict",
          "llm", "predict_difficulty", ("process",), on_pipeline_page=True,
          description="Predict the five difficulty dimensions of every problem (LLM endpoint or the offline "
                      "features model); unchanged problems reuse their cached prediction.",
          options=(
              _opt("predictor", "choice", "default: llm when LLM_BASE_URL and LLM_MODEL are set, else features",
                   choices=("llm", "features")),
              *_LLM_OPTIONS[:2],
              _opt("temperature", "float", "sampling temperature (default: LLM_TEMPERATURE)", min=0, max=2),
              _opt("max_tokens", "int", "longest answer in tokens (default: LLM_MAX_TOKENS)", min=1, max=200_000),
              _opt("request_timeout", "float", "seconds per request (default: LLM_TIMEOUT)", min=1, max=3600,
                   param="timeout"),
              _LLM_OPTIONS[2],
          )),
    # Measuring samples the model and judges its answers in the same task: it runs on the sandbox
    # queue, because only the sandbox worker is set up for bubblewrap (the llm worker is not).
    Stage("measure", "Measure", "curation.services.pass_rates.measure_execute", "curation.stage.measure",
          "sandbox", "measure_pass_rates", ("verify",), on_pipeline_page=True,
          description="Measure pass rates: k solutions per sampled problem from a reference model, judged in the "
                      "sandbox; the evidence calibration fits to.",
          options=(
              _opt("k", "int", "solutions sampled per problem", default=4, min=1, max=100, always=True),
              _opt("sample_size", "int", "problems sampled (default: all)", min=1),
              _opt("seed", "int", "seed of the sample", default=0, min=0, always=True),
              *_LLM_OPTIONS,
          )),
    # The other source of pass-rate evidence: a graded file (LiveCodeBench style) uploaded on the
    # pipeline page or given to `import_pass_rates`; a StageRun so the page shows its progress.
    Stage("pass_rates", "Import pass rates", "curation.services.pass_rates.pass_rates_import_execute",
          "curation.stage.pass_rates", "default", "import_pass_rates", ("collect",),
          description="Import graded results (question_id + graded_list per model) as pass-rate measurements.",
          options=(_opt("model", "str", "model name when the file does not carry one"),)),
    Stage("calibrate", "Calibrate", "curation.services.calibration.calibrate_execute", "curation.stage.calibrate",
          "default", "calibrate_difficulty", ("predict", "measure"), on_pipeline_page=True,
          description="Fit the calibration (weighted score → expected pass rate) on problems with both scores and "
                      "pass-rate evidence, then re-bucket every scored problem.",
          options=(
              _opt("method", "choice", "the monotone map fitted", default="isotonic", choices=("isotonic", "logistic"),
                   always=True),
              _opt("refit_weights", "bool", "refit the five weights for rank agreement", always=True),
          )),
    Stage("select", "Select", "curation.services.selection.select_execute", "curation.stage.select",
          "default", "select_problems", ("calibrate",), on_pipeline_page=True,
          description="Select problems by calibrated pass rate under a policy, as a new named selection "
                      "(duplicates, contaminated and benchmark problems are never selected).",
          options=(
              _opt("name", "str", "the selection's name (default: selection-<run>)", default="", always=True),
              _opt("policy", "choice", "keep a target share of easy problems, or cut at a pass rate",
                   default="target_easy_share", choices=("target_easy_share", "cutoff"), always=True),
              _opt("target_easy_share", "float", "share of easy problems kept (target_easy_share)", default=0.2,
                   min=0, max=1, always=True),
              _opt("max_pass_rate", "float", "highest calibrated pass rate kept (cutoff)", default=0.8, min=0, max=1,
                   always=True),
          )),
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
    "curation.tasks.snapshots.snapshot_job_task": "default",
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


def stage_options_parse(stage: Stage, data) -> tuple[dict, str, dict[str, str]]:
    """(params, step, errors) from submitted values (a form's POST, a dict): each option through
    its own `parse`, as the command's argparse does. `errors` maps a field to its reason."""
    params: dict = {}
    step = ""
    errors: dict[str, str] = {}
    for opt in stage.options:
        raw = data.get(opt.name)
        try:
            value = opt.parse(raw)
        except OptionError as exc:
            errors[opt.name] = exc.reason
            continue
        if opt.key == "step":
            step = value or ""
        elif opt.always or (value is not None and value is not False):
            params[opt.key] = value
    return params, step, errors


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
