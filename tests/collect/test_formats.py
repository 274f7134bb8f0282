"""Every format's fixture imports with the expected fields."""
from __future__ import annotations

import base64
import datetime as dt
import gzip
import io
import json
import pickle
import zlib

import pytest

from curation.collect import CanonicalProblem, ImportLimits, RecordError, get_importer, write_canonical_jsonl
from curation.collect.livecodebench import restricted_unpickle_str

from .helpers import FIXTURES, SHARED_DATA, by_id, run


# ---------------------------------------------------------------- livecodebench


def test_livecodebench_jsonl():
    ok, errors = run("livecodebench", FIXTURES / "livecodebench.jsonl")
    assert errors == []
    probs = by_id(ok)
    a = probs["abc999_a"]
    assert (a.platform, a.contest_id, a.problem_index, a.difficulty_label) == ("atcoder", "abc999", "A", "easy")
    assert a.io_format == "stdin" and a.contest_date == dt.date(2024, 5, 4)
    assert [(t.kind, t.input, t.output) for t in a.tests] == [
        ("sample", "3\n1 2 3\n", "6\n"),
        ("hidden", "1\n5\n", "5\n"),  # decoded from base64 → zlib → pickle → JSON
        ("hidden", "2\n-1 1\n", "0\n"),
    ]
    assert a.url == "https://atcoder.jp/contests/abc999/tasks/abc999_a"
    lc = probs["3999"]
    assert (lc.io_format, lc.function_name, lc.platform) == ("functional", "addTwo", "leetcode")
    assert lc.starter_code.startswith("class Solution:")
    assert [t.kind for t in lc.tests] == ["sample", "hidden"]
    cf = probs["1999_B"]
    assert cf.tests == [] and "no_tests" in cf.flags  # a fact, not an error
    assert cf.url == "https://codeforces.com/problemset/problem/1999/B"
    assert all(len(p.raw_hash) == 64 for p in ok)


def test_livecodebench_json_array_and_gz(tmp_path):
    rows = [json.loads(l) for l in (FIXTURES / "livecodebench.jsonl").read_text().splitlines()]
    path = tmp_path / "test.json"
    path.write_text(json.dumps(rows, indent=2))
    ok, errors = run("livecodebench", path)
    assert errors == [] and [p.external_id for p in ok] == ["abc999_a", "3999", "1999_B"]
    gz = tmp_path / "test.jsonl.gz"
    gz.write_bytes(gzip.compress((FIXTURES / "livecodebench.jsonl").read_bytes()))
    ok2, errors = run("livecodebench", gz)
    assert errors == [] and [p.content_hash() for p in ok2] == [p.content_hash() for p in ok]


def test_json_array_bad_item_goes_on(tmp_path):
    rows = [json.loads(l) for l in (FIXTURES / "livecodebench.jsonl").read_text().splitlines()]
    text = "[" + json.dumps(rows[0]) + ', {"question_id": "x", "oops": [1, 2}, ' + json.dumps(rows[1]) + "]"
    path = tmp_path / "bad.json"
    path.write_text(text)
    ok, errors = run("livecodebench", path)
    # The scanner keeps going past a broken element as long as brackets/strings let it.
    assert [p.external_id for p in ok][:1] == ["abc999_a"]
    assert errors and errors[0].record == "item 2"


class _Evil:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def _encode(obj) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(obj))).decode()


def test_livecodebench_malicious_pickle_is_refused(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    raw_evil = pickle.dumps(_Evil(marker))  # pickles a reference to os.system
    payload = base64.b64encode(zlib.compress(raw_evil)).decode()
    calls = []
    import os

    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    rows = [json.loads(l) for l in (FIXTURES / "livecodebench.jsonl").read_text().splitlines()]
    evil = dict(rows[0], question_id="evil_a", private_test_cases=payload)
    not_str = dict(rows[0], question_id="list_a", private_test_cases=_encode([{"input": "1", "output": "1"}]))
    path = tmp_path / "lcb.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (evil, not_str, rows[1])) + "\n")
    ok, errors = run("livecodebench", path)
    assert calls == [] and not marker.exists()  # nothing was executed
    assert [p.external_id for p in ok] == ["3999"]
    assert [(e.record, e.field) for e in errors] == [
        ("line 1", "private_test_cases"),
        ("line 2", "private_test_cases"),
    ]
    assert "refused" in errors[0].message and "system" in errors[0].message
    assert "expected a pickled str" in errors[1].message
    with pytest.raises(pickle.UnpicklingError):
        restricted_unpickle_str(raw_evil)
    assert restricted_unpickle_str(pickle.dumps("[]")) == "[]"


# ---------------------------------------------------------------- taco / apps


def test_taco_jsonl():
    ok, errors = run("taco", FIXTURES / "taco.jsonl")
    assert errors == [] and len(ok) == 2
    stdin, fn = ok
    assert stdin.title == "Sum Two" and stdin.platform == "codeforces"
    assert (stdin.contest_id, stdin.problem_index) == ("4", "A")
    assert stdin.io_format == "stdin" and [t.input for t in stdin.tests] == ["1 2\n", "3 4\n"]
    assert (stdin.time_limit_ms, stdin.memory_limit_mb, stdin.difficulty_label) == (1000, 256, "easy")
    assert stdin.tags == ["Mathematics"] and stdin.extra["raw_tags"] == ["Math"]
    assert stdin.solutions[0].code.startswith("a,b=map(int")
    assert fn.io_format == "functional" and fn.function_name == "add"
    assert [(t.input, t.output) for t in fn.tests] == [("[1, 2]", "[3]"), ("[5, 5]", "[10]")]  # JSON text
    assert fn.difficulty_label == "medium_hard" and fn.platform == "codewars"
    assert fn.extra["expected_time_complexity"] == "O(1)"


def test_apps_jsonl_and_folders():
    ok, errors = run("apps", FIXTURES / "apps.jsonl")
    assert errors == []
    probs = by_id(ok)
    a = probs["4000"]
    assert (a.platform, a.contest_id, a.problem_index, a.difficulty_label) == ("codeforces", "1000", "A", "introductory")
    assert len(a.solutions) == 2 and a.tests[0].output == "2\n"
    b = probs["4001"]
    assert b.io_format == "functional" and b.function_name == "is_even"
    assert [t.output for t in b.tests] == ["true", "false"]
    c = probs["4002"]
    assert c.tests == [] and set(c.flags) == {"no_tests", "no_solution"} and c.platform == "atcoder"
    ok, errors = run("apps", FIXTURES / "apps_folders")
    assert errors == [] and len(ok) == 1
    p = ok[0]
    assert p.external_id == "0007" and p.statement == "Print hello.\n"
    assert p.tests[0].output == "hello\n" and p.url.endswith("/7/A") and len(p.raw_hash) == 64


# ---------------------------------------------------------------- codecontests-hf


def _check_cc_hf(ok, errors):
    assert errors == [] and len(ok) == 2
    p = by_id(ok)["1500_C. Sorting Things"]
    assert (p.title, p.platform, p.contest_id, p.problem_index) == ("Sorting Things", "codeforces", "1500", "C")
    assert [t.kind for t in p.tests] == ["sample", "hidden", "generated", "generated"]
    assert (p.time_limit_ms, p.memory_limit_mb, p.difficulty_label, p.difficulty_rating) == (2500, 256, "C", 1600)
    assert [(s.language, s.is_correct) for s in p.solutions] == [("python3", True), ("cpp", True), ("python3", False)]
    assert p.tags == ["sortings", "implementation"]
    assert p.url == "https://codeforces.com/problemset/problem/1500/C"
    q = by_id(ok)["brcktsrm"]
    assert q.platform == "codechef" and q.difficulty_label == "" and q.time_limit_ms is None
    assert [t.kind for t in q.tests] == ["sample"] and "no_solution" in q.flags


def test_codecontests_hf_jsonl():
    _check_cc_hf(*run("codecontests-hf", FIXTURES / "codecontests_hf.jsonl"))


def test_codecontests_hf_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [json.loads(l) for l in (FIXTURES / "codecontests_hf.jsonl").read_text().splitlines()]
    tests_t = pa.struct([("input", pa.list_(pa.string())), ("output", pa.list_(pa.string()))])
    sol_t = pa.struct([("language", pa.list_(pa.int64())), ("solution", pa.list_(pa.string()))])
    schema = pa.schema([
        ("name", pa.string()), ("description", pa.string()),
        ("public_tests", tests_t), ("private_tests", tests_t), ("generated_tests", tests_t),
        ("source", pa.int64()), ("difficulty", pa.int64()),
        ("solutions", sol_t), ("incorrect_solutions", sol_t),
        ("cf_contest_id", pa.int64()), ("cf_index", pa.string()), ("cf_points", pa.float64()),
        ("cf_rating", pa.int64()), ("cf_tags", pa.list_(pa.string())),
        ("is_description_translated", pa.bool_()), ("untranslated_description", pa.string()),
        ("time_limit", pa.struct([("seconds", pa.int64()), ("nanos", pa.int64())])),
        ("memory_limit_bytes", pa.int64()), ("input_file", pa.string()), ("output_file", pa.string()),
    ])
    path = tmp_path / "test-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, row_group_size=1)
    ok, errors = run("codecontests-hf", path)
    _check_cc_hf(ok, errors)
    assert all(len(p.raw_hash) == 64 for p in ok)


# ---------------------------------------------------------------- kattis


def test_kattis_packages():
    ok, errors = run("kattis", FIXTURES / "kattis")
    assert errors == []
    probs = by_id(ok)
    c = probs["circlearea"]
    assert c.title == "Circle Area" and c.platform == "kattis"
    assert c.comparison == {"mode": "float", "abs_tol": 1e-6, "rel_tol": 1e-6, "case_sensitive": False}
    assert [(t.kind, t.input) for t in c.tests] == [("sample", "1\n"), ("hidden", "2\n"), ("hidden", "10\n")]
    assert (c.time_limit_ms, c.memory_limit_mb) == (2000, 512)
    assert sorted(s.language for s in c.solutions) == ["cpp", "python3"]
    assert all(s.is_correct for s in c.solutions)
    assert "\\problemname{Circle Area}" in c.statement and c.extra["statement_source_format"] == "latex"
    h = probs["hello"]
    assert h.comparison == {"mode": "checker"} and h.statement_format == "markdown"
    # a single package folder works too
    ok, errors = run("kattis", FIXTURES / "kattis" / "hello")
    assert errors == [] and ok[0].content_hash() == h.content_hash()


@pytest.mark.parametrize(
    "flags, expected",
    [
        (None, {"mode": "case_insensitive"}),
        ("case_sensitive", {"mode": "tokens"}),
        ("case_sensitive space_change_sensitive", {"mode": "exact"}),
        ("float_absolute_tolerance 1e-4", {"mode": "float", "abs_tol": 1e-4, "rel_tol": 0.0, "case_sensitive": False}),
        ("float_relative_tolerance 1e-9 case_sensitive", {"mode": "float", "abs_tol": 0.0, "rel_tol": 1e-9, "case_sensitive": True}),
    ],
)
def test_kattis_validator_flags(flags, expected):
    from curation.collect.kattis import parse_validator_flags

    assert parse_validator_flags(flags) == expected


# ---------------------------------------------------------------- canonical-jsonl


def test_canonical_round_trip(tmp_path):
    sources = [
        ("kattis", FIXTURES / "kattis"),
        ("taco", FIXTURES / "taco.jsonl"),
        ("livecodebench", FIXTURES / "livecodebench.jsonl"),
        ("codecontests-hf", FIXTURES / "codecontests_hf.jsonl"),
        ("apps", FIXTURES / "apps.jsonl"),
    ]
    originals: list[CanonicalProblem] = []
    for fmt, path in sources:
        ok, errors = run(fmt, path)
        assert errors == []
        originals += ok
    originals.append(RecordError("f", "line 1", "", "skipped by the writer"))  # type: ignore[arg-type]
    out = tmp_path / "canonical.jsonl"
    with out.open("w", encoding="utf-8") as fp:
        assert write_canonical_jsonl(originals, fp) == len(originals) - 1
    back, errors = run("canonical-jsonl", out)
    assert errors == []
    originals = [p for p in originals if isinstance(p, CanonicalProblem)]
    # ids repeat across sources only if they collide; here they do not
    assert [p.content_hash() for p in back] == [p.content_hash() for p in originals]
    assert back[0].to_dict() | {"raw_hash": ""} == originals[0].to_dict() | {"raw_hash": ""}
    # binary file objects and gzip work too
    buf = io.BytesIO()
    write_canonical_jsonl(back, buf)
    gz = tmp_path / "canonical.jsonl.gz"
    gz.write_bytes(gzip.compress(buf.getvalue()))
    again, errors = run("canonical-jsonl", gz)
    assert errors == [] and [p.content_hash() for p in again] == [p.content_hash() for p in originals]


def test_canonical_round_trip_real_data(tmp_path):
    src = SHARED_DATA / "codecontests"
    if not src.is_dir():
        pytest.skip("shared data absent")
    ok, _ = run("codecontests-dir", src / "1141_a_game_23_2618")
    path = tmp_path / "c.jsonl"
    with path.open("w") as fp:
        write_canonical_jsonl(ok, fp)
    back, errors = run("canonical-jsonl", path)
    assert errors == [] and back[0].content_hash() == ok[0].content_hash()


def test_canonical_bad_fields(tmp_path):
    good = CanonicalProblem(external_id="x", title="X", statement="S").to_dict()
    rows = [
        dict(good, external_id="a", tests=[{"input": "1", "output": "1", "kind": "weird"}]),
        dict(good, external_id="b", contest_date="yesterday"),
        dict(good, external_id="c", bogus=1),
        dict(good, external_id="d", contest_date="2024-01-02"),
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ok, errors = run("canonical-jsonl", path)
    assert [p.external_id for p in ok] == ["d"] and ok[0].contest_date == dt.date(2024, 1, 2)
    assert [(e.record, e.field) for e in errors] == [
        ("line 1", "tests[0].kind"),
        ("line 2", "contest_date"),
        ("line 3", "bogus"),
    ]


def test_importer_limits_defaults():
    lim = ImportLimits()
    assert lim.max_test_bytes == 16 * 1024 * 1024
    assert lim.max_decompressed_bytes == 2 * 1024 ** 3
    assert lim.max_record_bytes == 256 * 1024 * 1024
    assert get_importer("taco", ImportLimits(max_test_bytes=5)).limits.max_test_bytes == 5


def test_json_array_scanner_matches_json_loads(tmp_path):
    """Fuzz the streaming array scanner with tiny chunks against json.loads."""
    import random

    from curation.collect.readers import iter_json_array

    rng = random.Random(7)

    def value(depth=0):
        r = rng.random()
        if depth > 3 or r < 0.3:
            return rng.choice([1, -2.5, True, None, 'a"b\\c]{', "é[x", ""])
        if r < 0.65:
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {f'k{i}\\"': value(depth + 1) for i in range(rng.randint(0, 4))}

    path = tmp_path / "a.json"
    for _ in range(100):
        items = [value() for _ in range(rng.randint(0, 6))]
        path.write_text(json.dumps(items, indent=rng.choice([None, 1]), ensure_ascii=rng.random() < 0.5), encoding="utf-8")
        out = list(iter_json_array(path, ImportLimits(), chunk_size=rng.randint(1, 7)))
        assert all(kind == "ok" for kind, _, _ in out)
        assert [json.loads(p) for _, _, p in out] == items
