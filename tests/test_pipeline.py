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
