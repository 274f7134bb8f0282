"""Streaming output sinks: the same verdict and diff as compare_output on the whole output,
whatever the chunk boundaries; and the worker keeps only a hash and a prefix."""
import hashlib
import random
import tracemalloc

import pytest

from curation.judge import Limits, Verdict, compare_output, judge_solution
from curation.judge.outputs import PREFIX_BYTES, Collector, Prefix, StreamCompare

from .conftest import CONFIG

RULES = [{"mode": "tokens"}, {"mode": "exact"}, {"mode": "case_insensitive"},
         {"mode": "float", "abs_tol": 1e-6, "rel_tol": 1e-6}]
PIECES = ["1", "2", "-3", "1.0000001", "abc", "ABC", " ", "  ", "\n", "\r\n", "\t", "\r",
          "é", "\u00a0", "\x1c", "x" * 70, "3.14", "nan", "inf", "\n\n"]


def _chunks(data: bytes, rng: random.Random):
    k = 0
    while k < len(data):
        n = rng.randint(1, 7)
        yield data[k:k + n]
        k += n


@pytest.mark.parametrize("seed", range(300))
def test_stream_compare_equals_compare_output(seed):
    rng = random.Random(seed)
    expected = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12)))
    if rng.random() < 0.5:     # often a near miss of the expected output
        actual = expected.replace(rng.choice(PIECES), rng.choice(PIECES), 1)
    else:
        actual = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12)))
    raw = actual.encode("utf-8")
    if rng.random() < 0.2:     # invalid UTF-8 split across chunks
        raw = raw + b"\xc3" + raw[:3]
    for rule in RULES:
        sink = StreamCompare(expected, rule)
        for chunk in _chunks(raw, rng):
            sink.feed(chunk)
        want = compare_output(raw.decode("utf-8", "replace"), expected, rule)
        assert sink.result() == want, (rule, raw, expected)
        assert sink.fields()["stdout_sha256"] == hashlib.sha256(raw).hexdigest()


def test_sinks_keep_a_prefix_and_a_hash():
    data = b"y" * (3 * PREFIX_BYTES)
    for sink in (Prefix(), Collector()):
        for k in range(0, len(data), 1000):
            sink.feed(data[k:k + 1000])
        f = sink.fields()
        assert f["stdout_bytes"] == len(data)
        assert len(f["stdout_prefix"]) == PREFIX_BYTES
    assert Collector().fields()["stdout"] == ""


@pytest.mark.usefixtures("sandbox_ok")
def test_worker_memory_flat_in_outputs():
    """Ten tests of 4 MiB of output each: what the worker holds afterwards is a hash and a
    prefix per test, not 40 MiB (nor its JSON)."""
    code = "import sys\nsys.stdout.write('7 ' * (2 << 20))\n"
    tracemalloc.start()
    try:
        rep = judge_solution(code, "python3", [("", "7 " * (2 << 20))] * 10,
                             limits=Limits(time_s=5, output_bytes=8 << 20), config=CONFIG)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rep.verdict == Verdict.AC, rep.tests
    # expected outputs (10 x 4 MiB strings, shared: one object) + their token lists while a
    # test streams; never all outputs at once
    assert peak < 120 << 20, peak
    assert all(len(t.stdout_prefix) <= 200 and t.stdout_sha256 for t in rep.tests)
