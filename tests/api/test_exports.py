"""Exports: every format, the canonical round trip, `datasets` loading, byte-identical
re-exports, splits, progress, the API (202, status, download) and failures."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.conf import settings

from curation.exports import EXPORT_FORMATS
from curation.models import Export, Problem
from curation.services import exports as export_services
from curation.services import imports
from curation.services.exports import export_create, export_execute
from curation.services.snapshots import snapshot_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot(users, problems):
    return snapshot_create(name="exp", user=users["curator"])


def run_export(snapshot, fmt, user=None, **options) -> Export:
    export = export_create(snapshot=snapshot, format=fmt, user=user, options=options)
    return export_execute(export.pk)


def path_of(export: Export) -> Path:
    return Path(settings.MEDIA_ROOT) / export.file


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_each_format_succeeds_and_reexport_is_byte_identical(snapshot, fmt):
    first = run_export(snapshot, fmt, split_by="hash", validation_fraction=0.5)
    second = run_export(snapshot, fmt, split_by="hash", validation_fraction=0.5)
    assert first.status == second.status == "succeeded", first.message
    assert (first.done, first.total, first.progress) == (4, 4, 1.0)
    assert first.file != second.file
    data1, data2 = path_of(first).read_bytes(), path_of(second).read_bytes()
    assert data1 == data2
    assert first.sha256 == second.sha256 == hashlib.sha256(data1).hexdigest()
    assert first.size_bytes == len(data1) > 0


def test_canonical_jsonl_round_trip_through_the_importer(snapshot, tmp_path):
    export = run_export(snapshot, "canonical-jsonl")
    run = imports.import_run_create(path=str(path_of(export)), format_name="canonical-jsonl", source_name="roundtrip")
    run = imports.import_run_execute(run.pk)
    assert (run.status, run.created_count, run.failed_count) == ("succeeded", 4, 0), run.errors
    for item in snapshot.items.all():
        data = item.data
        copy = Problem.objects.get(source__name="roundtrip", external_id=data["external_id"])
        assert (copy.title, copy.statement, copy.io_format, copy.function_name, copy.starter_code) == (
            data["title"], data["statement"], data["io_format"], data["function_name"], data["starter_code"]
        )
        assert copy.contest_date == (None if data["contest_date"] is None else __import__("datetime").date.fromisoformat(data["contest_date"]))
        assert list(copy.tests.order_by("ordinal").values_list("input", "output", "kind")) == [
            (t["input"], t["output"], t["kind"]) for t in data["tests"]
        ]
        assert list(copy.solutions.values_list("code", flat=True)) == [s["code"] for s in data["solutions"]]
        facts = copy.extra["microcoder"]
        assert (facts["problem_key"], facts["bucket"], facts["scores"]) == (data["problem_key"], data["bucket"], data["scores"])
    # Importing the same file again changes nothing.
    again = imports.import_run_execute(imports.import_run_create(path=str(path_of(export)), format_name="canonical-jsonl", source_name="roundtrip").pk)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 4)


def _load_with_datasets(path: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets

    return datasets.load_dataset("parquet", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache"))


def test_parquet_loads_with_datasets(snapshot, tmp_path, monkeypatch):
    export = run_export(snapshot, "parquet", split_by="date", cutoff="2024-01-01", batch_size=2)
    assert pq.ParquetFile(path_of(export)).metadata.num_row_groups == 2  # one row group per batch
    ds = _load_with_datasets(path_of(export), tmp_path, monkeypatch)
    assert ds.num_rows == 4
    rows = {r["problem_key"]: r for r in ds}
    p1 = rows["testsrc:p1"]
    assert [t["input"] for t in p1["tests"]] == ["0 1\n", "1 2\n", "2 3\n"]
    assert p1["scores"]["edge_cases"] == 6.0 and p1["bucket"] == "easy"
    assert p1["prompt"].endswith("Read from stdin, write to stdout.")
    # Date split: on/after the cut-off → validation; undated → train.
    assert {k: r["split"] for k, r in rows.items()} == {
        "testsrc:p1": "train", "testsrc:p2": "validation", "testsrc:p3": "train", "leet:f1": "validation",
    }


def test_verl_format(snapshot, tmp_path, monkeypatch):
    export = run_export(snapshot, "verl", split_by="hash", validation_fraction=0.0)
    ds = _load_with_datasets(path_of(export), tmp_path, monkeypatch)
    assert set(ds.column_names) == {"data_source", "prompt", "ability", "reward_model", "extra_info"}
    rows = {r["extra_info"]["id"]: r for r in ds}
    p1 = rows["testsrc:p1"]
    assert p1["data_source"] == "testsrc" and p1["ability"] == "code"
    assert p1["prompt"] == [{"role": "user", "content": "Given numbers, print the sum. (p1)\n\nRead from stdin, write to stdout."}]
    assert p1["reward_model"]["style"] == "rule"
    truth = json.loads(p1["reward_model"]["ground_truth"])
    assert truth["inputs"] == ["0 1\n", "1 2\n", "2 3\n"] and truth["outputs"] == ["1\n", "3\n", "5\n"]
    assert "fn_name" not in truth and truth["comparison"] == {"mode": "tokens"}
    assert json.loads(rows["leet:f1"]["reward_model"]["ground_truth"])["fn_name"] == "twoSum"
    assert p1["extra_info"]["split"] == "train" and p1["extra_info"]["bucket"] == "easy"
    assert p1["extra_info"]["scores"]["algorithmic_thinking"] == 5.0
    override = run_export(snapshot, "verl", data_source="codecontests")
    assert set(pq.read_table(path_of(override), columns=["data_source"]).column(0).to_pylist()) == {"codecontests"}


def test_trl_format(snapshot, tmp_path, monkeypatch):
    export = run_export(snapshot, "trl")
    ds = _load_with_datasets(path_of(export), tmp_path, monkeypatch)
    row = next(r for r in ds if r["problem_key"] == "leet:f1")
    assert row["prompt"] == [{"role": "user", "content": "Given numbers, print the sum. (f1)\n\nRead from stdin, write to stdout."}]
    assert (row["io_format"], row["function_name"], json.loads(row["comparison"])) == ("functional", "twoSum", {"mode": "tokens"})
    assert len(json.loads(row["tests"])) == 3


def test_livecodebench_format(snapshot):
    export = run_export(snapshot, "livecodebench")
    rows = {r["question_id"]: r for r in read_jsonl(path_of(export))}
    assert set(rows["p1"]) == {
        "question_title", "question_content", "platform", "question_id", "contest_id", "contest_date", "starter_code",
        "difficulty", "public_test_cases", "private_test_cases", "metadata",
    }
    p1 = rows["p1"]
    assert p1["contest_date"] == "2023-05-01T00:00:00" and p1["difficulty"] == "easy"
    assert json.loads(p1["public_test_cases"]) == [{"input": "0 1\n", "output": "1\n", "testtype": "stdin"}]
    assert len(json.loads(p1["private_test_cases"])) == 2  # plain JSON, not a pickle
    meta = json.loads(rows["f1"]["metadata"])
    assert meta["func_name"] == "twoSum"
    # f1's tests are "0 1" (no argument list): lcb_runner could not call with them, so they are
    # dropped and named (the real LeetCode rows are graded in tests/evaluations/test_lcb_export.py).
    assert [d["test"] for d in meta["dropped_tests"]] == [0, 1, 2]


def test_progress_is_written_per_batch(snapshot, monkeypatch):
    seen = []
    original = export_services.run_progress

    def spy(run, **kwargs):
        original(run, **kwargs)
        seen.append(Export.objects.values_list("status", "done", "total").get(pk=run.pk))

    monkeypatch.setattr(export_services, "run_progress", spy)
    export = run_export(snapshot, "parquet", batch_size=1)
    assert seen == [("running", 1, 4), ("running", 2, 4), ("running", 3, 4), ("running", 4, 4)]
    assert export.status == "succeeded"


def test_failed_export_records_the_error(snapshot, monkeypatch):
    from curation.exports.livecodebench import LiveCodeBenchWriter

    def boom(self, items):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(LiveCodeBenchWriter, "write_batch", boom)
    export = run_export(snapshot, "livecodebench")
    assert export.status == "failed" and "disk on fire" in export.message
    assert not export.file and not list((Path(settings.MEDIA_ROOT) / "exports").glob("*"))


def test_options_are_validated_with_the_field_named(snapshot):
    from curation.exports import ExportOptionsError

    for options, field in [
        ({"split_by": "date"}, "cutoff"),
        ({"split_by": "date", "cutoff": "yesterday"}, "cutoff"),
        ({"split_by": "hash", "validation_fraction": 2}, "validation_fraction"),
        ({"colour": 1}, "colour"),
        ({"batch_size": 0}, "batch_size"),
    ]:
        with pytest.raises(ExportOptionsError) as exc:
            export_create(snapshot=snapshot, format="parquet", user=None, options=options)
        assert exc.value.field == field
    with pytest.raises(ExportOptionsError) as exc:
        export_create(snapshot=snapshot, format="csv", user=None, options={})
    assert exc.value.field == "format"


# --- API --------------------------------------------------------------------------------------


def test_api_export_job_202_progress_and_download(api, snapshot, monkeypatch, django_capture_on_commit_callbacks):
    from curation.tasks import exports as export_tasks

    # The worker: run the task body at once when it is dispatched after commit.
    monkeypatch.setattr(export_tasks.export_run_task, "delay", lambda pk: export_tasks.export_run_task.apply(args=[pk]))
    client = api("curator")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = client.post("/api/v1/exports/", {"snapshot": snapshot.pk, "format": "verl", "options": {"split_by": "hash"}}, format="json")
    assert r.status_code == 202, r.json()
    body = r.json()
    assert (body["status"], body["progress"], body["download_url"], body["total"]) == ("pending", 0.0, None, 4)
    viewer = api("viewer")
    r = viewer.get(f"/api/v1/exports/{body['id']}/download/")
    assert r.status_code == 409 and r.json()["detail"] and r.json()["message"]

    for callback in callbacks:
        callback()
    r = viewer.get(f"/api/v1/exports/{body['id']}/")
    done = r.json()
    assert (done["status"], done["progress"], done["done"]) == ("succeeded", 1.0, 4)
    assert done["download_url"].endswith(f"/api/v1/exports/{body['id']}/download/")
    r = viewer.get(done["download_url"])
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment")
    content = b"".join(r.streaming_content)
    assert hashlib.sha256(content).hexdigest() == done["sha256"]


def test_api_export_errors_name_the_field(api, snapshot):
    client = api("curator")
    r = client.post("/api/v1/exports/", {"snapshot": snapshot.pk, "format": "csv"}, format="json")
    assert r.status_code == 400 and "format" in r.json() and r.json()["message"].startswith("format:")
    r = client.post("/api/v1/exports/", {"snapshot": snapshot.pk, "format": "parquet", "options": {"split_by": "date"}}, format="json")
    assert r.status_code == 400 and "options.cutoff" in r.json()
    r = client.post("/api/v1/exports/", {"format": "parquet"}, format="json")
    assert r.status_code == 400 and "snapshot" in r.json()



def test_management_commands(snapshot, capsys):
    from django.core.management import call_command

    call_command("create_snapshot", "cli", "--filter", "bucket=hard", "--benchmark", "lcb", "--cutoff", "2024-01-01")
    out = capsys.readouterr().out
    assert "cli v1, 2 problems" in out
    snap_id = int(out.split()[1].rstrip(":"))
    call_command("export_snapshot", str(snap_id), "livecodebench", "--option", "split_by=hash", "--now")
    assert "sha256" in capsys.readouterr().out
    assert Export.objects.get(snapshot_id=snap_id).options["split_by"] == "hash"
