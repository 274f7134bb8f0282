"""The import service against the real database (PostgreSQL in CI) and the real shared data."""
import gzip
import json

import pytest
from django.core.management import call_command

from curation.models import ImportRun, Problem, ProblemRevision, ReferenceSolution, TestCase
from curation.services import imports

pytestmark = pytest.mark.django_db


def run_import(path, format_name, source=None):
    run = imports.import_run_create(path=str(path), format_name=format_name, source_name=source)
    return imports.import_run_execute(run.pk)


@pytest.mark.slow
def test_all_shared_data_imports_with_counts_and_named_fields(shared_data):
    cc = run_import(shared_data / "codecontests", "codecontests-dir")
    assert (cc.status, cc.created_count, cc.failed_count) == ("succeeded", 383, 0)
    lc3 = run_import(shared_data / "leetcode" / "LeetCodeDataset-v0.3.1-test.jsonl.gz", "leetcodedataset", "leetcode-v0.3.1")
    lc2 = run_import(shared_data / "leetcode" / "LeetCodeDataset-v0.2.0-train.jsonl.gz", "leetcodedataset", "leetcode-v0.2.0")
    assert (lc3.created_count, lc3.failed_count) == (228, 0)
    assert (lc2.created_count, lc2.failed_count) == (1890, 0)
    assert Problem.objects.count() == 383 + 228 + 1890

    game = Problem.objects.get(source__name="codecontests", external_id="1141_a_game_23_2618")
    assert (game.title, game.platform, game.contest_id, game.problem_index, game.io_format) == (
        "Game 23", "codeforces", "1141", "A", "stdin",
    )
    assert game.tests.count() == 10
    assert game.tests.filter(kind="sample").count() == 3
    assert game.solutions.get().language == "python3"
    assert game.source.license == "CC-BY-4.0"
    assert game.raw_hash and len(game.content_hash) == 64

    two_sum = Problem.objects.get(source__name="leetcode-v0.2.0", external_id="two-sum")
    assert (two_sum.io_format, two_sum.function_name, two_sum.difficulty_label) == ("functional", "twoSum", "easy")
    assert list(two_sum.tests.values_list("input", flat=True)) == [
        "nums = [2,7,11,15], target = 9", "nums = [3,2,4], target = 6", "nums = [3,3], target = 6",
    ]
    first = Problem.objects.get(source__name="leetcode-v0.3.1", external_id="shortest-distance-after-road-addition-queries-i")
    assert first.function_name == "shortestDistanceAfterQueries"
    assert str(first.contest_date) == "2024-08-04"
    assert first.tests.count() >= 50

    # Tests per problem: every problem has tests, and the totals match the files.
    assert not Problem.objects.filter(tests__isnull=True).exists()
    from django.db.models import Count

    by_label = dict(
        Problem.objects.filter(source__name="leetcode-v0.3.1").values_list("difficulty_label").annotate(n=Count("id"))
    )
    assert by_label == {"medium": 101, "hard": 79, "easy": 48}


def test_reimport_is_idempotent_and_a_changed_record_keeps_history(tmp_path, shared_data):
    src = shared_data / "leetcode" / "LeetCodeDataset-v0.3.1-test.jsonl.gz"
    lines = gzip.open(src, "rt").read().splitlines()[:5]
    path = tmp_path / "five.jsonl"
    path.write_text("\n".join(lines) + "\n")
    first = run_import(path, "leetcodedataset")
    assert (first.created_count, first.updated_count, first.unchanged_count) == (5, 0, 0)
    tests_before = TestCase.objects.count()

    again = run_import(path, "leetcodedataset")
    assert (again.created_count, again.updated_count, again.unchanged_count, again.failed_count) == (0, 0, 5, 0)
    assert TestCase.objects.count() == tests_before

    record = json.loads(lines[2])
    record["problem_description"] += "\nA clarified sentence."
    record["input_output"] = record["input_output"][:3]
    lines[2] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    problem = Problem.objects.get(external_id=record["task_id"])
    old_hash, old_version = problem.content_hash, problem.version

    changed = run_import(path, "leetcodedataset")
    assert (changed.created_count, changed.updated_count, changed.unchanged_count) == (0, 1, 4)
    problem.refresh_from_db()
    assert problem.content_hash != old_hash and problem.version == old_version + 1
    assert problem.statement.endswith("A clarified sentence.")
    assert problem.tests.count() == 3
    assert list(ProblemRevision.objects.filter(problem=problem).values_list("content_hash", flat=True)) == [old_hash]


def test_bad_records_are_reported_and_the_rest_imports(tmp_path, shared_data):
    src = shared_data / "leetcode" / "LeetCodeDataset-v0.3.1-test.jsonl.gz"
    good = gzip.open(src, "rt").read().splitlines()[:3]
    missing = json.loads(good[0])
    missing["task_id"] = "no-description"
    del missing["problem_description"]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        (good[0] + "\n{not json\n" + json.dumps(missing) + "\n").encode() + b"\xff\xfe bad utf8\n" + (good[1] + "\n" + good[0] + "\n" + good[2] + "\n").encode()
    )
    run = run_import(path, "leetcodedataset")
    assert run.status == "partial"
    assert run.created_count == 3
    assert run.failed_count == 4
    records = {e["record"] for e in run.errors}
    assert "line 2" in records and "line 4" in records
    fields = {e["field"] for e in run.errors}
    assert "problem_description" in fields or any("description" in f for f in fields)
    assert all(e["file"].endswith("mixed.jsonl") for e in run.errors)
    duplicate = [e for e in run.errors if "duplicate" in e["message"].lower()]
    assert len(duplicate) == 1


def test_unknown_format_is_refused_before_anything_starts(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text("{}\n")
    with pytest.raises(imports.ImportRequestError, match="known formats"):
        imports.import_run_create(path=str(path), format_name="nope")
    assert not ImportRun.objects.exists()


def test_a_chunk_that_fails_in_the_database_is_isolated_record_by_record(tmp_path, shared_data, monkeypatch):
    src = shared_data / "leetcode" / "LeetCodeDataset-v0.3.1-test.jsonl.gz"
    lines = gzip.open(src, "rt").read().splitlines()[:4]
    path = tmp_path / "four.jsonl"
    path.write_text("\n".join(lines) + "\n")
    victim = json.loads(lines[1])["task_id"]
    real_children = imports._children

    def failing_children(problem, record):
        tests, solutions = real_children(problem, record)
        if record.external_id == victim:
            # A test row the database refuses: the problem must not be stored half-written.
            tests.append(tests[0])
        return tests, solutions

    monkeypatch.setattr(imports, "_children", failing_children)
    run = run_import(path, "leetcodedataset")
    assert run.created_count == 3 and run.failed_count == 1
    assert run.errors[0]["record"] == victim
    assert not Problem.objects.filter(external_id=victim).exists()
    assert Problem.objects.count() == 3
    assert TestCase.objects.filter(problem__external_id=victim).count() == 0


def test_command_sync_prints_a_json_summary(tmp_path, shared_data, capsys):
    call_command("import_problems", str(shared_data / "codecontests" / "1141_a_game_23_2618"), "--format", "codecontests-dir", "--sync", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert summary["created"] == 1 and summary["status"] == "succeeded"
    assert ReferenceSolution.objects.count() == 1


def test_a_finished_run_notifies_webhook_subscribers(tmp_path, shared_data, django_capture_on_commit_callbacks):
    from curation.models import Webhook, WebhookDelivery

    Webhook.objects.create(url="http://127.0.0.1:9/hook", secret="whsec_" + "A" * 32, events=["run.finished"])
    with django_capture_on_commit_callbacks() as callbacks:
        run = run_import(shared_data / "codecontests" / "1141_a_game_23_2618", "codecontests-dir")
    delivery = WebhookDelivery.objects.get(event="run.finished")
    assert delivery.payload["data"] == {
        "kind": "ImportRun", "id": run.pk, "status": "succeeded", "done": 1, "total": 1, "message": "",
    }
    assert len(callbacks) == 1  # the delivery task is dispatched only after commit


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_chunks_are_written_on_a_thread_and_still_isolated(tmp_path, shared_data, monkeypatch):
    """The pipelined writer (PostgreSQL, no enclosing transaction) keeps every guarantee."""
    from django.db import connection

    src = shared_data / "leetcode" / "LeetCodeDataset-v0.3.1-test.jsonl.gz"
    lines = gzip.open(src, "rt").read().splitlines()[:9]
    path = tmp_path / "nine.jsonl"
    path.write_text("\n".join(lines) + "\n")
    victim = json.loads(lines[4])["task_id"]
    real_children = imports._children
    threads = set()

    def failing_children(problem_id, record):
        import threading

        threads.add(threading.current_thread().name)
        tests, solutions = real_children(problem_id, record)
        if record.external_id == victim:
            tests.append(tests[0])  # a duplicate ordinal: the database refuses the chunk
        return tests, solutions

    monkeypatch.setattr(imports, "_children", failing_children)
    run = imports.import_run_create(path=str(path), format_name="leetcodedataset")
    run = imports.import_run_execute(run.pk, chunk_size=2)
    assert (run.created_count, run.failed_count, run.done, run.total) == (8, 1, 9, 9)
    assert run.errors[0]["record"] == victim
    assert not Problem.objects.filter(external_id=victim).exists()
    assert TestCase.objects.filter(problem__source=run.source).count() == sum(
        len(json.loads(line)["input_output"]) - sum(str(t["output"]).startswith(("Error:", "Execution timed out")) for t in json.loads(line)["input_output"])
        for i, line in enumerate(lines) if i != 4
    )
    if connection.vendor == "postgresql":
        assert all(name.startswith("import-writer") for name in threads)
