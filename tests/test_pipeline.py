"""The stage map: every task explicitly named and routed to the queue its stage declares."""
import pytest
from kombu import Connection

from curation import pipeline
from curation.services import stages
from curation.tasks.stages import STAGE_TASKS
from microcoder_site.celery import app


def routed_queue(task_name: str) -> str:
    return app.amqp.router.route({}, task_name, (1,), {})["queue"].name


@pytest.mark.parametrize("stage", [s for s in pipeline.STAGES if s.task], ids=lambda s: s.name)
def test_every_stage_task_routes_to_its_declared_queue(stage):
    assert stage.task in app.tasks, f"{stage.name}: task {stage.task} is not registered"
    assert routed_queue(stage.task) == stage.queue


def test_every_curation_task_is_named_and_routed():
    ours = sorted(name for name in app.tasks if name.startswith("curation."))
    assert ours and set(ours) == set(pipeline.TASK_QUEUES)
    for name in ours:
        assert routed_queue(name) == pipeline.TASK_QUEUES[name]
    assert {name: t.name for name, t in STAGE_TASKS.items()} == {s.name: s.task for s in pipeline.STAGES if s.kind == pipeline.STAGE_RUN}


def test_a_bare_delay_of_verification_lands_on_the_sandbox_queue():
    with Connection("memory://") as conn:
        STAGE_TASKS["verify"].apply_async(args=[4242], connection=conn)
        message = conn.SimpleQueue("sandbox").get(timeout=2)
        assert message.headers["task"] == "curation.stage.verify" and message.headers["argsrepr"] == "[4242]"
        message.ack()
        with pytest.raises(Exception):
            conn.SimpleQueue("default").get(timeout=0.2)


def test_the_map_is_consistent_and_registered_at_start():
    names = [s.name for s in pipeline.STAGES]
    for i, s in enumerate(pipeline.STAGES):
        assert all(names.index(p) < i for p in s.prerequisites), f"{s.name} comes before a prerequisite"
        assert callable(s.executor())
    assert set(pipeline._resolved) == set(names)  # AppConfig.ready resolved every service
    started = stages.available_stages()
    core = ["process", "verify", "train_features", "predict", "measure", "calibrate", "select"]
    assert [s for s in started if s in core] == core  # in pipeline order
    assert "snapshot" not in started and "collect" not in started  # their own rows, not StageRuns
    with pytest.raises(pipeline.UnknownStageError, match="known stages: process, verify"):
        pipeline.stage_get("nope")


@pytest.mark.django_db
def test_a_stage_that_is_not_a_stage_run_is_refused_with_its_command():
    with pytest.raises(stages.UnknownStageError, match="create_snapshot"):
        stages.stage_run_create(stage="snapshot")


@pytest.mark.parametrize("stage", [s for s in pipeline.STAGES if s.command and s.kind == pipeline.STAGE_RUN], ids=lambda s: s.name)
def test_each_command_takes_its_help_and_flags_from_the_map(stage):
    from django.core.management import load_command_class

    command = load_command_class("curation", stage.command)
    parser = command.create_parser("manage.py", stage.command)
    assert stage.description and parser.description == stage.description
    flags = {flag for action in parser._actions for flag in action.option_strings}
    for opt in stage.options:
        assert opt.flag in flags, (stage.name, opt.flag)
        assert opt.parse("") == opt.default and (opt.default is None or opt.parse(str(opt.default)) == opt.default)


def test_options_parse_into_params_and_step_with_errors_by_field():
    params, step, errors = pipeline.stage_options_parse(pipeline.BY_NAME["predict"], {
        "predictor": "llm", "request_timeout": "30", "temperature": "3", "max_tokens": "x"})
    assert params == {"predictor": "llm", "timeout": 30.0} and step == ""
    assert errors == {"temperature": "must be at most 2", "max_tokens": "expected a whole number, got 'x'"}
    params, step, errors = pipeline.stage_options_parse(pipeline.BY_NAME["process"], {"step": "dedup"})
    assert (params, step, errors) == ({}, "dedup", {})
    # Stored always where the executor reads them unconditionally; otherwise only when given.
    assert pipeline.stage_options_parse(pipeline.BY_NAME["calibrate"], {})[0] == {"method": "isotonic", "refit_weights": False}
    assert pipeline.stage_options_parse(pipeline.BY_NAME["checkers"], {})[0] == {}
    with pytest.raises(pipeline.OptionError) as caught:
        pipeline.BY_NAME["verify"].options_by_name["parallel"].parse("0")
    assert caught.value.field == "parallel" and caught.value.reason == "must be at least 1"
