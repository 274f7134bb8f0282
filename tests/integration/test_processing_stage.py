"""The processing stage against the database: every step through the command, on the real data."""
import gzip
import json

import pytest
from django.core.management import call_command

from curation.models import ContaminationMatch, DuplicateCluster, Problem, StageRun, TestCase
from curation.services import decontamination, imports

pytestmark = pytest.mark.django_db


def run_import(path, fmt, source=None):
    return imports.import_run_execute(imports.import_run_create(path=str(path), format_name=fmt, source_name=source).pk)


def process(capsys, *args):
    call_command("process_problems", "--sync", "--json", *args)
    return json.loads(capsys.readouterr().out)


def test_processing_steps_on_codecontests(shared_data, capsys):
    run_import(shared_data / "codecontests", "codecontests-dir")
    summary = process(capsys)
    assert summary["status"] == "succeeded", summary["errors"][:3]
    assert set(summary["counts"]) == {"normalize", "samples", "tests", "dedup", "decontam"}

    game = Problem.objects.get(external_id="1141_a_game_23_2618")
    assert game.process_status == "ok" and game.io_format == "stdin"
    assert "standard input" in game.format_instruction
    # The importer already marked the examples as samples: nothing is extracted twice.
    assert sorted(game.tests.filter(kind="sample").values_list("input", "output")) == [
        ("120 51840", "7"), ("42 42", "0"), ("48 72", "-1"),
    ] or game.tests.filter(kind="sample").count() == 3
    # Test hygiene: at most 32 training tests, samples always among them.
    for p in Problem.objects.all():
        training = p.tests.filter(is_training=True)
        assert training.count() <= max(32, p.tests.filter(kind="sample").count())
        assert not p.tests.filter(kind="sample", is_training=False, flags=[]).exists()

    # Div. 1 / Div. 2 mirrors are clustered; same-title different problems stay apart.
    def cluster_of(prefix):
        return Problem.objects.get(external_id__startswith=prefix).duplicate_cluster_id

    assert cluster_of("1031_e_") is not None and cluster_of("1031_e_") == cluster_of("1071_c_")
    assert cluster_of("1198_c_") == cluster_of("1199_e_") is not None
    journey = Problem.objects.filter(title="Journey")
    assert journey.count() == 2 and not (journey[0].duplicate_cluster_id and journey[0].duplicate_cluster_id == journey[1].duplicate_cluster_id)
    assert DuplicateCluster.objects.count() == 28
    assert Problem.objects.filter(is_duplicate=True).count() == 28

    # Idempotent: a second run changes nothing.
    before = list(Problem.objects.order_by("pk").values_list("statement", "duplicate_cluster__canonical_id", "is_duplicate"))
    tests_before = TestCase.objects.count()
    again = process(capsys)
    assert again["counts"]["tests"]["duplicate_tests_dropped"] == 0
    assert list(Problem.objects.order_by("pk").values_list("statement", "duplicate_cluster__canonical_id", "is_duplicate")) == before
    assert TestCase.objects.count() == tests_before


def test_samples_are_extracted_when_a_problem_has_none(shared_data, capsys, tmp_path):
    lines = gzip.open(shared_data / "leetcode" / "LeetCodeDataset-v0.3.1-test.jsonl.gz", "rt").read().splitlines()[:3]
    path = tmp_path / "three.jsonl"
    path.write_text("\n".join(lines) + "\n")
    run_import(path, "leetcodedataset")
    assert not TestCase.objects.filter(kind="sample").exists()
    summary = process(capsys, "--step", "normalize")
    summary = process(capsys, "--step", "samples")
    assert summary["counts"]["samples"]["problems_with_new_samples"] >= 1
    problem = Problem.objects.get(external_id="shortest-distance-after-road-addition-queries-i")
    assert problem.signature.startswith("shortestDistanceAfterQueries(n: int, queries: List[List[int]]) -> List[int]")
    assert problem.tests.filter(kind="sample").exists()
    assert problem.tests.filter(kind="sample").first().input.replace(" ", "") .startswith("n=5,queries=")


def test_a_benchmark_problem_is_flagged_when_it_appears_in_another_source(shared_data, capsys, tmp_path):
    src = shared_data / "leetcode" / "LeetCodeDataset-v0.3.1-test.jsonl.gz"
    lines = gzip.open(src, "rt").read().splitlines()[:20]
    bench_path = tmp_path / "bench.jsonl"
    bench_path.write_text("\n".join(lines) + "\n")
    run_import(bench_path, "leetcodedataset", "livecodebench-like")
    # A training copy of problem 5 under another id and source, lightly edited.
    copy = json.loads(lines[5])
    copy["task_id"] = "renamed-copy"
    words = copy["problem_description"].split(" ")
    words[10:12] = ["slightly", "edited"]
    copy["problem_description"] = " ".join(words)
    train_path = tmp_path / "train.jsonl"
    train_path.write_text(json.dumps(copy) + "\n" + lines[0].replace('"task_id": "', '"task_id": "other-') + "\n")
    run_import(train_path, "leetcodedataset", "scraped")

    assert decontamination.benchmark_mark(name="lcb", source_name="livecodebench-like") == 20
    summary = process(capsys, "--step", "decontam")
    assert summary["counts"]["decontam"]["benchmark_problems"] == 20
    target = Problem.objects.get(source__name="livecodebench-like", external_id=json.loads(lines[5])["task_id"])
    renamed = Problem.objects.get(external_id="renamed-copy")
    assert renamed.is_contaminated
    methods = set(ContaminationMatch.objects.filter(problem=renamed, benchmark_problem=target).values_list("method", flat=True))
    assert {"near_duplicate", "ngram_overlap"} <= methods
    assert Problem.objects.get(source__name="scraped", external_id__startswith="other-").is_contaminated
    # A curator's dismissal survives a rerun.
    ContaminationMatch.objects.filter(problem=renamed).update(status="dismissed")
    process(capsys, "--step", "decontam")
    renamed.refresh_from_db()
    assert not renamed.is_contaminated
    assert StageRun.objects.filter(stage="process").count() == 2
