"""Public entry points: :func:`judge_solution` and :func:`run_program`."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from .compare import compare_value, normalize_rule
from .languages import Language, get_language
from .outputs import Collector, Prefix, Spool, StreamCompare
from .results import JudgeReport, Limits, RunResult, TestResult, Verdict
from .sandbox import BatchOutcome, BatchTest, SandboxConfig, run_batch

# The LeetCode import prelude (what LeetCode's Python environment provides).
LEETCODE_PRELUDE = '''\
import random, functools, collections, string, math, datetime, heapq, bisect, itertools, operator, re
from typing import *
from functools import *
from collections import *
from itertools import *
from heapq import *
from bisect import *
from string import *
from operator import *
from math import *
inf = float('inf')

class ListNode:
    def __init__(self, val=0, next=None):
        self.val = val
        self.next = next

class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val = val
        self.left = left
        self.right = right
'''

COMPILE_LIMITS = Limits(time_s=30, wall_s=60, memory_mb=2048, stack_mb=64,
                        output_bytes=1 << 20, stderr_bytes=64 << 10, processes=32,
                        file_size_mb=256, open_files=256)
CHECKER_LIMITS = Limits(time_s=10, wall_s=20, memory_mb=1024, output_bytes=64 << 10)
_TEXT_MAX = 2000
log = logging.getLogger(__name__)


@dataclass
class TestCase:
    __test__ = False   # not a pytest class
    input: str            # stdin text, or (functional) the argument text
    expected: str         # expected stdout, or (functional) the expected literal/JSON


def _tests(tests) -> list[TestCase]:
    out = []
    for t in tests:
        if isinstance(t, TestCase):
            out.append(t)
        elif isinstance(t, dict):
            out.append(TestCase(t["input"], t.get("output", t.get("expected", ""))))
        else:
            inp, exp = t
            out.append(TestCase(inp, exp))
    return out


def _b(s) -> bytes:
    return s if isinstance(s, bytes) else (s or "").encode("utf-8")


# ----------------------------------------------------------------------------------
# compilation
# ----------------------------------------------------------------------------------
def _cache_get(cache: Path, key: str) -> bytes | None:
    """A cached binary, only if its content still matches the hash recorded beside it."""
    path, digest = cache / f"{key}.bin", cache / f"{key}.sha256"
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
            raise OSError("not our file")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest.read_text().strip():
            raise OSError("content changed")
        return data
    except FileNotFoundError:
        return None
    except OSError as e:
        log.warning("judge: dropping cache entry %s: %s", key, e)
        for p in (path, digest):
            try:
                os.unlink(p)
            except OSError:
                pass
        return None


def _cache_put(cache: Path, key: str, data: bytes) -> None:
    tmp = cache / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)
    (cache / f".{key}.sha.{os.getpid()}.{threading.get_ident()}").write_text(
        hashlib.sha256(data).hexdigest())
    os.replace(cache / f".{key}.sha.{os.getpid()}.{threading.get_ident()}",
               cache / f"{key}.sha256")
    os.replace(tmp, cache / f"{key}.bin")


def _prepare(code: str, lang: Language, config: SandboxConfig) -> tuple[dict, str | None, str]:
    """-> (box_files, compile_error or None, isolation).

    Compiled binaries are cached in the judge's private cache directory (0700, owner
    checked) by a hash of compiler command + source, and each is checked against the hash
    of its content before use.  The compiler runs in the sandbox; the binary comes back over
    the channel.
    """
    if not lang.compile_argv:
        return {lang.source_name: _b(code)}, None, ""
    key = hashlib.sha256(json.dumps(lang.compile_argv).encode() + b"\0" + _b(code)).hexdigest()
    cache = config.cache_path()
    binary = _cache_get(cache, key)
    if binary is not None:
        return {lang.binary_name: binary}, None, ""
    cached_err = cache / f"{key}.ce"
    if cached_err.exists() and not cached_err.is_symlink():
        return {}, cached_err.read_text(), ""
    argv = [a.replace("{src}", "{box}/" + lang.source_name)
             .replace("{out}", "{out}/" + lang.binary_name) for a in lang.compile_argv]
    outcome = run_batch(kind="exec", box_files={lang.source_name: _b(code)}, argv=argv,
                        tests=[BatchTest()], limits=COMPILE_LIMITS, config=config,
                        fetch=lang.binary_name)
    raw = outcome.results[0]
    if raw.get("exit_code") == 0 and outcome.fetched:
        _cache_put(cache, key, outcome.fetched)
        return {lang.binary_name: outcome.fetched}, None, outcome.isolation
    msg = (raw.get("stderr") or raw.get("stdout") or "").strip()
    if raw.get("timed_out") or raw.get("system_error") or raw.get("driver_died"):
        return {}, "compilation failed: " + (msg or raw.get("system_error") or "timeout"), \
            outcome.isolation
    msg = msg.replace("/box/", "")[:_TEXT_MAX] or "compilation failed"
    cached_err.write_text(msg)
    return {}, msg, outcome.isolation


# ----------------------------------------------------------------------------------
# classification
# ----------------------------------------------------------------------------------
_MEM_MARKERS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "out of memory")


def _measured(raw: dict, input_bytes: int = 0) -> tuple[float, int]:
    """(CPU seconds, peak KiB) of a test: what wait4 saw of its processes, or what the
    cgroup saw of all of them (less the judge's own work there), whichever is larger."""
    cpu = float(raw.get("cpu") or 0.0)
    mem = int(raw.get("mem_kb") or 0)
    if "cg_cpu" in raw:
        cpu = max(cpu, float(raw["cg_cpu"]) - float(raw.get("j_cpu") or 0.0))
        mem = max(mem, int(raw.get("cg_mem_kb") or 0) - input_bytes // 1024)
    return round(cpu, 4), mem


# CPython's default cap on integer digits, applied to reported values whatever the worker
# process's global setting is (a library may lift it with sys.set_int_max_str_digits(0)).
_MAX_INT_DIGITS = 4300


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise ValueError("integer too long")
    return int(text)


def _decode_func(payload: str) -> tuple[str, object, str | None, str]:
    """The functional return value reported by the solution's process, validated:
    (status, value, text, message).  Anything malformed is the program's doing: RE."""
    try:
        obj = json.loads(payload, parse_int=_bounded_int)
    except (ValueError, RecursionError):
        return "RE", None, None, "no return value reported"
    if not isinstance(obj, dict):
        return "RE", None, None, "malformed return value report"
    if obj.get("too_big") is True:
        return "OLE", None, None, "return value too large"
    text = obj.get("text")
    if "value" not in obj or not (text is None or isinstance(text, str)):
        return "RE", None, None, "malformed return value report"
    return "OK", obj["value"], text, ""


def _to_run_result(raw: dict, limits: Limits, isolation: str, functional: bool,
                   resource_limits: str = "rlimits-only", input_bytes: int = 0) -> RunResult:
    if raw.get("system_error"):
        return RunResult(status="SE", message=raw["system_error"], isolation=isolation,
                         resource_limits=resource_limits)
    stdout = (raw.get("stdout") or "").encode("latin-1").decode("utf-8", "replace")
    stderr = raw.get("stderr") or ""
    cpu, mem = _measured(raw, input_bytes)
    rr = RunResult(status="OK", stdout=stdout, stderr=stderr[-_TEXT_MAX:],
                   exit_code=raw.get("exit_code"), signal=raw.get("signal"),
                   time_wall=float(raw.get("wall") or 0.0), time_cpu=cpu,
                   carried_cpu=float(raw.get("carried") or 0.0),
                   memory_kb=mem, isolation=isolation, resource_limits=resource_limits)
    mem_limit_kb = limits.memory_mb * 1024
    if raw.get("oom"):
        rr.status, rr.message = "MLE", f"memory limit {limits.memory_mb} MB exceeded (cgroup)"
    elif raw.get("driver_died"):
        rr.status = "TLE" if raw.get("timed_out") else "RE"
        rr.message = "the program killed the judge's driver process"
    elif raw.get("watchdog"):
        rr.status, rr.message = "TLE", raw.get("message") or "the sandbox stopped answering"
    elif raw.get("ole"):
        rr.status, rr.message = "OLE", f"output exceeded {limits.output_bytes} bytes"
    elif (raw.get("timed_out") or rr.time_cpu + rr.carried_cpu > limits.time_s
          or rr.signal == signal.SIGXCPU):
        # (carried_cpu: what the test's process spent in the solution's earlier tests, when
        # one process ran them; the driver re-runs such a test fresh before it gets here)
        rr.status = "TLE"
        if raw.get("timed_out"):
            rr.message = "wall-clock limit exceeded"
        elif rr.carried_cpu and rr.time_cpu <= limits.time_s:
            rr.message = (f"CPU time {rr.time_cpu:.2f}s + {rr.carried_cpu:.2f}s spent in "
                          f"earlier tests > {limits.time_s}s")
        else:
            rr.message = f"CPU time {rr.time_cpu:.2f}s > {limits.time_s}s"
    elif rr.exit_code == 0 and rr.signal is None:
        rr.status = "OK"
    elif any(m in stderr for m in _MEM_MARKERS) or rr.memory_kb >= 0.95 * mem_limit_kb:
        rr.status, rr.message = "MLE", f"memory limit {limits.memory_mb} MB exceeded"
    else:
        rr.status = "RE"
        rr.message = (f"killed by signal {rr.signal}" if rr.signal is not None
                      else f"exit code {rr.exit_code}")
    if functional and rr.status == "OK":
        status, value, text, message = _decode_func(raw.get("func") or "")
        if status != "OK":
            rr.status, rr.message = status, message
        else:
            rr.value, rr.value_text = value, text
    return rr


_STATUS_TO_VERDICT = {"RE": Verdict.RE, "TLE": Verdict.TLE, "MLE": Verdict.MLE,
                      "OLE": Verdict.OLE, "SE": Verdict.SE}


def _test_result(i: int, rr: RunResult, verdict: Verdict, diff: str = "",
                 raw: dict | None = None) -> TestResult:
    raw = raw or {}
    return TestResult(index=i, verdict=verdict, time_wall=rr.time_wall, time_cpu=rr.time_cpu,
                      carried_cpu=rr.carried_cpu, memory_kb=rr.memory_kb, diff=diff or rr.message,
                      stderr=rr.stderr[-500:], exit_code=rr.exit_code, signal=rr.signal,
                      isolation=rr.isolation, resource_limits=rr.resource_limits,
                      stdout_sha256=raw.get("stdout_sha256", ""),
                      stdout_prefix=(raw.get("stdout_prefix") or "")[:200])


# ----------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------
def _run(code: str, language: str, inputs: list[str], *, mode: str, function_name,
         prelude, limits: Limits, config: SandboxConfig, sinks=None,
         ) -> tuple[BatchOutcome | None, str | None, str]:
    lang = get_language(language)
    functional = mode == "functional"
    if mode not in ("stdin", "functional"):
        raise ValueError(f"unknown mode {mode!r}")
    if functional and not lang.supports_functional:
        raise ValueError(f"functional mode is not supported for {lang.name}")
    if functional and not function_name:
        raise ValueError("functional mode needs function_name (e.g. 'Solution().twoSum')")
    box_files, ce, isolation = _prepare(code, lang, config)
    if ce is not None:
        from .sandbox import resolve_isolation
        return None, ce, isolation or resolve_isolation(config)
    if functional:
        tests = [BatchTest(args=inp) for inp in inputs]
    else:
        tests = [BatchTest(stdin=_b(inp)) for inp in inputs]
    outcome = run_batch(
        kind=lang.kind, mode=mode, box_files=box_files,
        source=lang.source_name if lang.kind == "python" else None,
        argv=list(lang.run_argv) if lang.kind == "exec" else None,
        entry=function_name,
        prelude=(LEETCODE_PRELUDE if prelude is None else prelude) if functional else None,
        tests=tests, limits=limits, config=config, sinks=sinks)
    if outcome.compile_error is not None:
        return None, outcome.compile_error, outcome.isolation
    return outcome, None, outcome.isolation


def run_programs(code: str, language: str, inputs: list[str], *, mode: str = "stdin",
                 function_name: str | None = None, prelude: str | None = None,
                 limits: Limits = Limits(), config: SandboxConfig = SandboxConfig(),
                 ) -> tuple[list[RunResult], str | None, str]:
    """Run a program on several inputs in one sandbox (outputs kept whole, up to the cap).

    Returns (run results, compile error or None, isolation).
    """
    outcome, ce, isolation = _run(code, language, inputs, mode=mode,
                                  function_name=function_name, prelude=prelude,
                                  limits=limits, config=config, sinks=lambda i: Collector())
    if ce is not None:
        return [], ce, isolation
    return ([_to_run_result(r, limits, outcome.isolation, mode == "functional",
                            outcome.limits, len(_b(inp)))
             for r, inp in zip(outcome.results, inputs)], None, outcome.isolation)


def run_program(code: str, language: str, stdin: str = "", *, limits: Limits = Limits(),
                config: SandboxConfig = SandboxConfig()) -> RunResult:
    """Run a program once on ``stdin``.  A compilation error gives status "CE"."""
    results, ce, isolation = run_programs(code, language, [stdin], limits=limits, config=config)
    if ce is not None:
        return RunResult(status="CE", message=ce, isolation=isolation)
    return results[0]


def _safe_compare_value(rr: RunResult, expected: str, rule: dict) -> tuple[bool, str]:
    """compare_value on what the solution reported; a value the comparison cannot handle
    (it came from untrusted code) is a wrong answer, never an exception."""
    try:
        return compare_value(rr.value, rr.value_text, expected, rule)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError,
            OverflowError, MemoryError) as e:
        return False, f"unusable return value: {type(e).__name__}"


def judge_solution(code: str, language: str, tests, mode: str = "stdin",
                   function_name: str | None = None, comparison: dict | None = None,
                   limits: Limits = Limits(), config: SandboxConfig = SandboxConfig(),
                   prelude: str | None = None) -> JudgeReport:
    """Judge ``code`` on ``tests`` (``[(input, expected), ...]``, TestCase or dicts).

    mode="stdin": input is stdin, expected is stdout, compared with ``comparison`` (a rule
    dict, default tokens) while the output streams in (only its hash and a prefix are
    kept).  mode="functional": input is the argument text (``n = 7, queries = [[0,5]]`` or
    JSON), expected a Python literal or JSON, compared structurally on the host (floats
    with the rule's abs_tol/rel_tol, default 1e-6); ``function_name`` is
    ``Solution().method``, ``method`` (of class Solution) or a top-level function;
    ``prelude`` defaults to the LeetCode imports (pass "" for none).  The module runs once;
    each test calls the function in a fresh copy of the loaded process.
    Raises SandboxUnavailable when bubblewrap is unusable and not allowed to run without.
    """
    cases = _tests(tests)
    rule = normalize_rule(comparison) if mode == "stdin" else dict(comparison or {})
    lang = get_language(language)
    checker = mode == "stdin" and rule["mode"] == "checker"
    opened: list = []

    def sink(i: int):
        if mode != "stdin":
            s = Prefix()
        elif checker:
            s = Spool(str(config.base_dir()))
        else:
            s = StreamCompare(cases[i].expected, rule)
        opened.append(s)
        return s

    try:
        outcome, ce, isolation = _run(
            code, language, [c.input for c in cases], mode=mode, function_name=function_name,
            prelude=prelude, limits=limits, config=config, sinks=sink)
        if ce is not None:
            results = [TestResult(index=i, verdict=Verdict.CE, diff=ce[:200], isolation=isolation)
                       for i in range(len(cases))]
            return JudgeReport.from_tests(results, isolation=isolation, language=lang.name,
                                          compile_output=ce)
        results: list[TestResult | None] = [None] * len(cases)
        to_check: list[int] = []
        runs = []
        for i, (case, raw) in enumerate(zip(cases, outcome.results)):
            rr = _to_run_result(raw, limits, outcome.isolation, mode == "functional",
                                outcome.limits, len(_b(case.input)) if mode == "stdin" else 0)
            runs.append(rr)
            if rr.status != "OK":
                results[i] = _test_result(i, rr, _STATUS_TO_VERDICT[rr.status], raw=raw)
                continue
            if mode == "functional":
                ok, diff = _safe_compare_value(rr, case.expected, rule)
            elif checker:
                to_check.append(i)
                continue
            else:
                ok, diff = raw.get("compare") or (False, "no output comparison")
            results[i] = _test_result(i, rr, Verdict.AC if ok else Verdict.WA, diff, raw=raw)
        if to_check:
            verdicts = run_checker(
                rule["checker"],
                [(cases[i].input, Path(outcome.results[i]["stdout_path"]), cases[i].expected)
                 for i in to_check], config=config)
            for i, (ok, msg) in zip(to_check, verdicts):
                verdict = Verdict.AC if ok is True else Verdict.WA if ok is False else Verdict.SE
                results[i] = _test_result(i, runs[i], verdict, "" if ok is True else msg,
                                          raw=outcome.results[i])
        return JudgeReport.from_tests(results, isolation=isolation, language=lang.name,
                                      resource_limits=outcome.limits, seccomp=outcome.seccomp)
    finally:
        for s in opened:
            s.close()


def run_checker(checker_source: str, triples, *, config: SandboxConfig = SandboxConfig(),
                limits: Limits = CHECKER_LIMITS) -> list[tuple[bool | None, str]]:
    """Run a checker (see compare.py for the contract) on (input, output, expected) triples
    in one sandbox; the output may be text or the path of a file holding it.
    Returns (True=AC / False=WA / None=checker failure, message)."""
    def data(x):
        return str(x) if isinstance(x, Path) else _b(x)
    tests = [BatchTest(argv=["{box}/checker.py", "{test}/input.txt", "{test}/output.txt",
                             "{test}/expected.txt"],
                       files={"input.txt": _b(inp), "output.txt": data(out),
                              "expected.txt": _b(exp)})
             for inp, out, exp in triples]
    outcome = run_batch(kind="python", box_files={"checker.py": _b(checker_source)},
                        source="checker.py", tests=tests, limits=limits, config=config)
    if outcome.compile_error is not None:
        return [(None, "checker does not compile: " + outcome.compile_error[:200])] * len(triples)
    res = []
    for raw in outcome.results:
        msg = ((raw.get("stdout") or "") + (raw.get("stderr") or "")).strip()[:200]
        if raw.get("exit_code") == 0 and not raw.get("timed_out"):
            res.append((True, msg))
        elif raw.get("exit_code") == 1 and not raw.get("timed_out"):
            res.append((False, msg or "checker rejected the output"))
        else:
            res.append((None, "checker failed: " + (msg or str(raw.get("system_error") or
                                                              raw.get("signal")))))
    return res
