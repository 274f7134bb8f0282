"""Bad input: every bad record is a RecordError naming file, record and field; the rest imports."""
from __future__ import annotations

import gzip
import json
import shutil

import pytest

from curation.collect import ImportLimits, UnknownFormatError, available_formats, get_importer

from .helpers import FIXTURES, SHARED_DATA, run


def lc_row(task_id: str, **over) -> dict:
    row = {
        "task_id": task_id,
        "question_id": 1,
        "difficulty": "Easy",
        "tags": "['Array']",
        "problem_description": f"Statement of {task_id}.",
        "starter_code": "class Solution:\n    def f(self, x: int) -> int:\n        ",
        "estimated_date": "2024-09-01",
        "prompt": "from typing import *\n",
        "completion": "class Solution:\n    def f(self, x: int) -> int:\n        return x\n",
        "entry_point": "Solution().f",
        "test": "def check(candidate):\n    assert candidate(x = 1) == 1\n",
        "input_output": "[{'input': 'x = 1', 'output': '1'}]",
    }
    row.update(over)
    return row


def line(row: dict) -> bytes:
    return json.dumps(row).encode("utf-8") + b"\n"


def test_unknown_format_lists_known_formats():
    with pytest.raises(UnknownFormatError) as info:
        get_importer("no-such-format")
    message = str(info.value)
    assert "no-such-format" in message
    for name in available_formats():
        assert name in message
    assert set(available_formats()) >= {
        "codecontests-dir", "leetcodedataset", "livecodebench", "taco", "apps",
        "codecontests-hf", "kattis", "canonical-jsonl",
    }


def test_python_literal_strings_and_meidum_typo(tmp_path):
    path = tmp_path / "lc.jsonl"
    path.write_bytes(line(lc_row("a-b", difficulty="Meidum")))
    (p,), errors = run("leetcodedataset", path)
    assert errors == []
    assert p.difficulty_label == "medium" and p.tags == ["Array"]
    assert (p.tests[0].input, p.tests[0].output) == ("x = 1", "1")
    assert p.title == "A B"


def test_literal_strings_are_never_evaluated(tmp_path):
    path = tmp_path / "lc.jsonl"
    path.write_bytes(line(lc_row("evil", input_output="__import__('os').system('touch /tmp/pwned')")) + line(lc_row("good")))
    ok, errors = run("leetcodedataset", path)
    assert [p.external_id for p in ok] == ["good"]
    assert (errors[0].record, errors[0].field) == ("line 1", "input_output")


def test_malformed_json_line(tmp_path):
    path = tmp_path / "lc.jsonl"
    path.write_bytes(line(lc_row("one")) + b'{"task_id": "broken", \n' + line(lc_row("three")))
    ok, errors = run("leetcodedataset", path)
    assert [p.external_id for p in ok] == ["one", "three"]
    assert len(errors) == 1
    e = errors[0]
    assert (e.file, e.record, e.field) == (str(path), "line 2", "")
    assert "malformed JSON" in e.message
    assert str(path) in str(e) and "line 2" in str(e)


def test_missing_required_field(tmp_path):
    path = tmp_path / "lc.jsonl"
    bad = lc_row("no-statement")
    del bad["problem_description"]
    no_id = lc_row("x")
    del no_id["task_id"]
    path.write_bytes(line(lc_row("one")) + line(bad) + line(no_id) + line(lc_row("four")))
    ok, errors = run("leetcodedataset", path)
    assert [p.external_id for p in ok] == ["one", "four"]
    assert [(e.record, e.field) for e in errors] == [("line 2", "problem_description"), ("line 3", "task_id")]
    assert "no-statement" in errors[0].message  # the record's id is named too
    assert all(e.file == str(path) for e in errors)


def test_invalid_utf8_line(tmp_path):
    path = tmp_path / "lc.jsonl"
    bad = line(lc_row("bad")).replace(b"Statement", b"St\xff\xfeatement")
    path.write_bytes(line(lc_row("one")) + bad + line(lc_row("three")))
    ok, errors = run("leetcodedataset", path)
    assert [p.external_id for p in ok] == ["one", "three"]
    assert [(e.record, e.field) for e in errors] == [("line 2", "")]
    assert "UTF-8" in errors[0].message


def test_oversize_test_rejects_whole_record(tmp_path):
    path = tmp_path / "lc.jsonl"
    io = [{"input": "x = 1", "output": "1"}] * 3 + [{"input": "x = " + "9" * 200, "output": "1"}]
    path.write_bytes(line(lc_row("one")) + line(lc_row("big", input_output=io)) + line(lc_row("three")))
    ok, errors = run("leetcodedataset", path, ImportLimits(max_test_bytes=100))
    assert [p.external_id for p in ok] == ["one", "three"]
    assert [(e.record, e.field) for e in errors] == [("line 2", "tests[3].input")]
    assert "100" in errors[0].message


def test_oversize_test_file_in_folder(tmp_path):
    src = SHARED_DATA / "codecontests" / "1141_a_game_23_2618"
    if not src.is_dir():
        pytest.skip("shared codecontests data absent")
    root = tmp_path / "cc"
    shutil.copytree(src, root / "1141_a_game_23_2618")
    shutil.copytree(src, root / "big")
    (root / "big" / "tests" / "output_2.txt").write_text("1" * 500)
    text = (root / "big" / "PROBLEM.md").read_text().replace("**ID:** 1141_a_game_23_2618", "**ID:** big")
    (root / "big" / "PROBLEM.md").write_text(text)
    ok, errors = run("codecontests-dir", root, ImportLimits(max_test_bytes=400))
    assert [p.external_id for p in ok] == ["1141_a_game_23_2618"]
    assert [(e.file, e.record, e.field) for e in errors] == [(str(root / "big"), "big", "tests[1].output")]


def test_oversize_record_line(tmp_path):
    path = tmp_path / "lc.jsonl"
    path.write_bytes(line(lc_row("one")) + line(lc_row("huge", prompt="#" * 5000)) + line(lc_row("three")))
    ok, errors = run("leetcodedataset", path, ImportLimits(max_record_bytes=2000))
    assert [p.external_id for p in ok] == ["one", "three"]
    assert [e.record for e in errors] == ["line 2"]
    assert "larger than the limit" in errors[0].message


def test_duplicate_ids_keep_first(tmp_path):
    path = tmp_path / "lc.jsonl"
    path.write_bytes(
        line(lc_row("one", problem_description="first"))
        + line(lc_row("two"))
        + line(lc_row("one", problem_description="second"))
    )
    ok, errors = run("leetcodedataset", path)
    assert [p.external_id for p in ok] == ["one", "two"]
    assert ok[0].statement == "first"
    assert [(e.file, e.record, e.field) for e in errors] == [(str(path), "line 3", "external_id")]
    assert "line 1" in errors[0].message and "'one'" in errors[0].message


def test_duplicate_ids_in_folders(tmp_path):
    src = SHARED_DATA / "codecontests" / "1141_a_game_23_2618"
    if not src.is_dir():
        pytest.skip("shared codecontests data absent")
    shutil.copytree(src, tmp_path / "a")
    shutil.copytree(src, tmp_path / "b")
    ok, errors = run("codecontests-dir", tmp_path)
    assert len(ok) == 1 and ok[0].extra["folder"] == "a"
    assert [(e.record, e.field) for e in errors] == [("b", "external_id")]


def test_truncated_gzip(tmp_path):
    path = tmp_path / "lc.jsonl.gz"
    body = b"".join(line(lc_row(f"p{i}", prompt="x" * (i * 37 % 500))) for i in range(400))
    full = gzip.compress(body)
    path.write_bytes(full[: len(full) * 2 // 3])
    ok, errors = run("leetcodedataset", path)
    assert 0 < len(ok) < 400
    assert [p.external_id for p in ok] == [f"p{i}" for i in range(len(ok))]
    # A partial last line may surface as a malformed record before the stream error; the last
    # error is the truncated stream, and then the iteration ends cleanly.
    assert len(errors) in (1, 2)
    assert errors[-1].file == str(path)
    assert errors[-1].record.startswith("line ")
    assert "truncated or corrupt compressed stream" in errors[-1].message


def test_corrupt_gzip_header(tmp_path):
    path = tmp_path / "lc.jsonl.gz"
    path.write_bytes(b"this is not gzip at all\n")
    ok, errors = run("leetcodedataset", path)
    assert ok == [] and len(errors) == 1
    assert (errors[0].record, errors[0].field) == ("line 1", "")


def test_gzip_bomb_stops_at_decompressed_limit(tmp_path):
    path = tmp_path / "bomb.jsonl.gz"
    with gzip.open(path, "wb") as fp:
        fp.write(line(lc_row("one")))
        fp.write(line(lc_row("two")))
        fp.write(b" " * (50 * 1024 * 1024))  # 50 MiB of blanks, a few KiB compressed
        fp.write(line(lc_row("never")))
    assert path.stat().st_size < 200 * 1024
    ok, errors = run("leetcodedataset", path, ImportLimits(max_decompressed_bytes=1024 * 1024, max_record_bytes=4096))
    assert [p.external_id for p in ok] == ["one", "two"]
    assert errors[-1].file == str(path)
    assert "exceeds the limit" in errors[-1].message and "gzip bomb" in errors[-1].message


def test_not_an_object_and_missing_file(tmp_path):
    path = tmp_path / "lc.jsonl"
    path.write_bytes(b"[1, 2]\n" + line(lc_row("one")))
    # A file starting with '[' is read as a JSON array: its items are not objects.
    ok, errors = run("leetcodedataset", path)
    assert ok == [] and errors
    missing = tmp_path / "nope.jsonl"
    ok, errors = run("taco", missing)
    assert ok == [] and [(e.file, e.record) for e in errors] == [(str(missing), "file")]


def test_kattis_bad_package_reports_and_goes_on(tmp_path):
    shutil.copytree(FIXTURES / "kattis", tmp_path / "pkgs")
    broken = tmp_path / "pkgs" / "broken"
    (broken / "data" / "sample").mkdir(parents=True)
    (broken / "problem.yaml").write_text("name: [unclosed\n")
    (broken / "data" / "sample" / "1.in").write_text("1\n")
    ok, errors = run("kattis", tmp_path / "pkgs")
    assert sorted(p.external_id for p in ok) == ["circlearea", "hello"]
    assert [(e.record, e.field) for e in errors] == [("broken", "problem.yaml")]
