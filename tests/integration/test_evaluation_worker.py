"""A real Celery worker (llm queue) runs an evaluation from the real broker against the
OpenAI-protocol test server, judging in the real sandbox; the row shows progress while it runs."""
import datetime as dt
import time

import pytest
from django.db import transaction

from evaluations.models import EvalRun, EvalSample
from evaluations.services import eval_run_create
from tests.api.conftest import make_problem
from tests.evaluations.conftest import ANSWERS
from tests.fixtures.openai_server import OpenAITestServer

from .worker import celery_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_evaluation_runs_on_a_real_worker_with_live_progress():
    for pid, label, date in (("e1", "easy", dt.date(2024, 9, 15)), ("e2", "easy", dt.date(2024, 9, 20)),
                             ("m1", "medium", dt.date(2024, 10, 1))):
        make_problem(pid, source="lcb", is_benchmark=True, benchmark_name="lcb-v6", difficulty_label=label, contest_date=date)
    with OpenAITestServer(raw_answers=ANSWERS, latency=0.2) as server:
        with transaction.atomic():
            run = eval_run_create(user=None, model_name="test-model", base_url=server.url, benchmark_name="lcb-v6",
                                  n_samples=4, concurrency=1, request_timeout_s=5)
        assert EvalRun.objects.get(pk=run.pk).status == "pending"
        seen = set()
        with celery_worker(queues="llm", extra_env={"VERIFY_PARALLELISM": "2"}):
            def finished():
                row = EvalRun.objects.get(pk=run.pk)
                seen.add((row.status, row.done))
                return row if row.is_finished else None

            row = wait_for(finished, timeout=240, interval=0.1)
    assert row.status == "succeeded", (row.message, row.errors)
    assert (row.done, row.total) == (12, 12)
    assert any(status == "running" and 0 < done < 12 for status, done in seen), seen  # progress while it ran
    assert {ep.question_id: (ep.n, ep.c) for ep in row.problems.all()} == {"e1": (4, 4), "e2": (4, 1), "m1": (4, 2)}
    assert row.summary["overall"]["pass@1"]["value"] == pytest.approx((1 + 0.25 + 0.5) / 3)
    assert EvalSample.objects.filter(run=row, status="judged").count() == 12
