"""The run state machine, the user actions and who may take them (no backend involved)."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from curation.roles import user_has_role
from training_jobs.models import ComputeTarget, TrainingEvent
from training_jobs.models import TrainingStatus as S
from training_jobs.services.runs import (
    TRANSITIONS,
    TrainingInputError,
    TransitionError,
    recipe_create,
    training_run_cancel,
    training_run_create,
    training_run_retry,
    training_run_transition,
)
from training_jobs.specs.params import RecipeParamsError, params_normalize

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot(users):
    from curation.services.snapshots import snapshot_create
    from tests.api.conftest import make_problem

    make_problem("p1")
    return snapshot_create(name="s", user=users["curator"])


@pytest.fixture
def target(tmp_path):
    return ComputeTarget.objects.create(name="here", kind="local", options={"jobs_root": str(tmp_path)})


def make_run(user, snapshot, target, **kw):
    recipe = recipe_create(name="r", framework="trl", algorithm="grpo", base_model="tiny-random:qwen2",
                           params={"total_steps": 5}, user=user)
    return training_run_create(user=user, name="run", train_snapshot=snapshot, recipe=recipe, target=target, **kw)


# role, may launch (table-driven, like curation.roles' ladder)
ROLE_TABLE = [("anon", False), ("nobody", False), ("viewer", False), ("curator", False), ("adjudicator", False),
              ("trainer", True), ("admin", True)]


@pytest.mark.parametrize("role,allowed", ROLE_TABLE)
def test_only_trainers_and_admins_spend_compute(users, trainer, snapshot, target, role, allowed):
    from django.contrib.auth.models import AnonymousUser

    user = {"anon": AnonymousUser(), "trainer": trainer}.get(role) or users[role]
    assert user_has_role(user, "trainer") is allowed
    if allowed:
        assert make_run(user, snapshot, target).status == S.QUEUED
    else:
        with pytest.raises(PermissionDenied):
            make_run(user, snapshot, target)


def test_a_trainer_can_view_but_not_curate(trainer):
    assert user_has_role(trainer, "viewer") and not user_has_role(trainer, "curator")


def test_every_state_change_is_an_event_and_illegal_ones_are_refused(trainer, snapshot, target):
    run = make_run(trainer, snapshot, target, launch=False)
    assert run.status == S.DRAFT
    with pytest.raises(TransitionError):
        training_run_transition(run, S.RUNNING)
    for to in (S.QUEUED, S.SUBMITTING, S.PENDING, S.RUNNING, S.SUCCEEDED):
        assert training_run_transition(run, to)
    assert not training_run_transition(run, S.SUCCEEDED)  # already there: no new event
    with pytest.raises(TransitionError):
        training_run_transition(run, S.QUEUED)  # success is final
    events = list(TrainingEvent.objects.filter(run=run).values_list("from_status", "to_status"))
    assert events == [("draft", "queued"), ("queued", "submitting"), ("submitting", "pending"),
                      ("pending", "running"), ("running", "succeeded")]
    run.refresh_from_db()
    assert run.started_at and run.finished_at and run.is_finished


def test_terminal_states_only_lead_back_to_the_queue():
    for state in (S.FAILED, S.CANCELLED, S.LOST):
        assert TRANSITIONS[state] == {S.QUEUED}
    assert TRANSITIONS[S.SUCCEEDED] == frozenset()
    assert all(to in TRANSITIONS for targets in TRANSITIONS.values() for to in targets)


def test_cancel_before_submission_and_retry_rules(trainer, snapshot, target):
    run = make_run(trainer, snapshot, target)
    with pytest.raises(TrainingInputError, match="only failed, cancelled or lost"):
        training_run_retry(run=run, user=trainer)
    training_run_cancel(run=run, user=trainer)
    run.refresh_from_db()
    assert run.status == S.CANCELLED and run.finished_at
    with pytest.raises(TrainingInputError, match="already finished"):
        training_run_cancel(run=run, user=trainer)
    attempt = training_run_retry(run=run, user=trainer)
    run.refresh_from_db()
    assert attempt.number == 2 and attempt.key.startswith(f"mc-{run.pk}-a2-") and run.status == S.QUEUED
    assert run.finished_at is None


def test_terminal_transition_emits_training_run_finished_after_commit(trainer, snapshot, target,
                                                                      django_capture_on_commit_callbacks):
    from curation.models import Webhook, WebhookDelivery
    from curation.services.webhooks import webhook_secret_generate

    Webhook.objects.create(url="http://127.0.0.1:9/h", secret=webhook_secret_generate(), events=["training_run.finished"])
    Webhook.objects.create(url="http://127.0.0.1:9/other", secret=webhook_secret_generate(), events=["run.finished"])
    run = make_run(trainer, snapshot, target)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        training_run_transition(run, S.FAILED, message="boom")
    assert not WebhookDelivery.objects.exists()  # nothing before commit
    for callback in callbacks:
        callback()
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "training_run.finished" and delivery.payload["data"]["status"] == "failed"
    assert delivery.payload["data"]["message"] == "boom"


def test_run_finished_is_decided_by_a_class_attribute():
    from curation.models import Export, ImportRun, StageRun
    from training_jobs.models import TrainingRun

    assert ImportRun.emits_run_finished and StageRun.emits_run_finished
    assert not Export.emits_run_finished and not TrainingRun.emits_run_finished


def test_params_defaults_are_the_papers_and_errors_name_the_field():
    params = params_normalize({})
    assert (params["temperature"], params["max_response_length"], params["train_batch_size"],
            params["total_steps"], params["clip_ratio_high"], params["dynamic_sampling"]) == (1.2, 8192, 64, 300, 0.28, True)
    assert params_normalize({}, algorithm="grpo")["clip_ratio_high"] == 0.2
    assert params_normalize({"total_steps": "12", "dynamic_sampling": "false"})["total_steps"] == 12
    for bad, field in [({"total_steps": "many"}, "total_steps"), ({"temperature": 9}, "temperature"),
                       ({"bogus": 1}, "bogus"), ({"clip_ratio_high": 0.1}, "clip_ratio_high"),
                       ({"mini_batch_size": 48}, "mini_batch_size"), ({"total_steps": 2.5}, "total_steps"),
                       ({"dynamic_sampling": "maybe"}, "dynamic_sampling"), ({"learning_rate": True}, "learning_rate")]:
        with pytest.raises(RecipeParamsError) as info:
            params_normalize(bad)
        assert info.value.field == field, bad


def test_recipe_and_run_inputs_are_checked(trainer, snapshot, target):
    with pytest.raises(TrainingInputError) as info:
        recipe_create(name="r", framework="trl", algorithm="dapo", base_model="a model with spaces", params={}, user=trainer)
    assert info.value.field == "base_model"
    target.is_enabled = False
    target.save()
    with pytest.raises(TrainingInputError) as info:
        make_run(trainer, snapshot, target)
    assert info.value.field == "target"


def test_compute_target_command_adds_and_checks(tmp_path, capsys):
    from django.core.management import call_command

    call_command("compute_target", "here", "--kind", "local", "--option", f"jobs_root={tmp_path}")
    assert ComputeTarget.objects.get(name="here").options == {"jobs_root": str(tmp_path)}
    assert '"ok": true' in capsys.readouterr().out
    call_command("compute_target", "far", "--kind", "ray", "--address", "http://127.0.0.1:9")
    assert '"ok": false' in capsys.readouterr().out  # nothing listens there: the health check says so
