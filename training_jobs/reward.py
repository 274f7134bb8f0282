"""The RL reward: extract the program from a completion, judge it in the project's sandbox
against the problem's frozen tests with the problem's own rule, entry point and limits, and
return a score in [0, 1]. Pure Python (no Django): the training job imports it.

    result = score_completion(completion_text, judge_spec)      # RewardResult(score=1.0, ...)
    compute_score(data_source, solution_str, ground_truth, extra_info)   # verl's custom reward
    trl_reward(prompts, completions, **columns)                          # TRL's reward_funcs

Two promises to the trainer (verl-project/verl#288, #6673: a reward that hangs stalls the run):
- it never raises: any failure is a score of 0 with the reason in `message`;
- it never hangs: completions are judged in child processes, each in its own session, and a
  child that has not answered at the completion's hard deadline is killed (with its sandboxes:
  bwrap runs with --die-with-parent).

The children are long-lived (`python -m training_jobs.reward --serve`, one request per line):
each keeps the judge's warm sandboxes between completions, so a completion costs a judgement,
not an interpreter and a sandbox started for it. An idle child is reused; one killed at a
deadline or found dead is replaced.

A program cannot forge its verdict: the child answers with a line that starts with a random
nonce the parent sent with the request; the candidate runs inside the sandbox (own PID and user
namespaces, pipes to the judge's driver only) and can neither read the nonce nor write to the
child's stdout. Anything else a program prints is compared as its answer, nothing more.
"""
from __future__ import annotations

import json
import os
import secrets
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from curation.judge.spec import JudgeSpec, JudgeSpecError

DEFAULT_DEADLINE_S = 30.0
DEFAULT_WORKERS = max(1, (os.cpu_count() or 2))
REPO_ROOT = str(Path(__file__).resolve().parent.parent)
_MAX_CODE_CHARS = 200_000


@dataclass
class RewardResult:
    score: float
    verdict: str          # AC, WA, ... as the judge says; NO_CODE, DEADLINE, BAD_SPEC, ERROR otherwise
    passed: int = 0
    total: int = 0
    message: str = ""
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- extraction -------------------------------------------------------------------------------


def extract_code(text: Any) -> str:
    """LiveCodeBench's rule (lcb_runner/utils/extraction_utils.py): the text between the last two
    lines that contain a ``` fence; no code when there are fewer than two such lines."""
    if not isinstance(text, str):
        return ""
    lines = text.split("\n")
    fences = [i for i, line in enumerate(lines) if "```" in line]
    if len(fences) < 2:
        return ""
    return "\n".join(lines[fences[-2] + 1: fences[-1]])


# --- the spec from what an export carries --------------------------------------------------------


def _loads(value: Any, field: str) -> Any:
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise JudgeSpecError(field, f"not JSON: {exc}") from None
    return value


def judge_spec_from_ground_truth(ground_truth: Any) -> JudgeSpec:
    """A JudgeSpec from verl's `reward_model.ground_truth` (a JSON string): the APPS/TACO shape
    `{inputs, outputs, fn_name?}` plus the spec's fields (`JudgeSpec.from_item`), or a whole frozen
    spec (`{"judge": {...}}`, or the spec itself). Raises JudgeSpecError naming the field."""
    data = _loads(ground_truth, "ground_truth")
    if not isinstance(data, dict):
        raise JudgeSpecError("ground_truth", "expected an object")
    if "version" in data and "tests" in data and "inputs" not in data:
        return JudgeSpec.from_dict(data)
    if "inputs" in data and "io_format" not in data and data.get("fn_name"):
        data = {**data, "io_format": "functional"}  # APPS/TACO: a fn_name means call-based tests
    return JudgeSpec.from_item(data)


def judge_spec_from_columns(*, tests: Any, io_format: str = "stdin", function_name: str = "",
                            comparison: Any = None, judge: Any = None) -> JudgeSpec:
    """A JudgeSpec from the TRL export's columns: its `judge` column (the spec without its tests)
    plus `tests`, or, in older exports, tests, io_format, function_name and comparison."""
    tests = _loads(tests, "tests")
    if not isinstance(tests, list):
        raise JudgeSpecError("tests", "expected a list of {input, output}")
    if judge:
        spec = _loads(judge, "judge")
        if not isinstance(spec, dict):
            raise JudgeSpecError("judge", "expected an object")
        return JudgeSpec.from_dict({**spec, "tests": spec.get("tests") or tests})
    return JudgeSpec.from_dict({
        "io_format": io_format or "stdin",
        "comparison": _loads(comparison, "comparison") or {"mode": "tokens"},
        "entry_point": function_name or None,
        "tests": tests,
    })


# --- scoring -----------------------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["OMP_NUM_THREADS"] = "1"
    return env


class _JudgeChild:
    """One long-lived `python -m training_jobs.reward --serve`: a request per line on its stdin,
    an answer per line on its stdout; its stderr goes to a temporary file (the tail explains a
    death)."""

    def __init__(self) -> None:
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "training_jobs.reward", "--serve"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.stderr, start_new_session=True, env=_child_env(),
            cwd=REPO_ROOT,
        )
        self.owner = os.getpid()
        self.buffer = b""

    def ask(self, request: bytes, nonce: str, deadline: float) -> str | None:
        """Send one request; the answer line (nonce removed), or None when the child did not
        answer before `deadline` (monotonic) or died. Raises OSError when it cannot be sent."""
        self.proc.stdin.write(request + b"\n")
        self.proc.stdin.flush()
        fd = self.proc.stdout.fileno()
        mark = nonce.encode()
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                if line.startswith(mark):
                    return line[len(mark):].decode("utf-8", "replace")
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk

    def stderr_tail(self) -> str:
        try:
            self.stderr.seek(0, os.SEEK_END)
            self.stderr.seek(max(0, self.stderr.tell() - 300))
            return self.stderr.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def kill(self) -> None:
        if self.owner == os.getpid():
            _kill_group(self.proc)
        self.stderr.close()


_idle_children: list[_JudgeChild] = []
_children_lock = threading.Lock()


def _take_child() -> _JudgeChild:
    with _children_lock:
        while _idle_children:
            child = _idle_children.pop()
            if child.owner != os.getpid():       # a forked trainer: the parent's children
                _idle_children.clear()           # are not ours to use or to kill
                break
            if child.proc.poll() is None:
                return child
            child.kill()
    return _JudgeChild()


def _give_back(child: _JudgeChild) -> None:
    with _children_lock:
        if child.owner == os.getpid() and len(_idle_children) < 4 * DEFAULT_WORKERS:
            _idle_children.append(child)
            return
    child.kill()


def shutdown_children() -> None:
    """Stop the idle judge children (they also stop by themselves when this process exits:
    their stdin closes)."""
    with _children_lock:
        children, _idle_children[:] = list(_idle_children), []
    for child in children:
        child.kill()


def score_code(code: str, spec: JudgeSpec, *, language: str = "python3", deadline_s: float = DEFAULT_DEADLINE_S,
               partial_credit: bool = False) -> RewardResult:
    """Judge extracted `code` in a judge child that is killed if it has not answered within
    `deadline_s`. Never raises."""
    started = time.monotonic()
    nonce = secrets.token_hex(16)
    request = json.dumps({"nonce": nonce, "code": code[:_MAX_CODE_CHARS], "language": language,
                          "spec": spec.to_dict(), "partial_credit": partial_credit}).encode("utf-8")
    line = None
    for attempt in range(2):
        try:
            child = _take_child()
        except OSError as exc:
            return RewardResult(0.0, "ERROR", total=len(spec.tests), message=f"cannot start the judge: {exc}")
        try:
            line = child.ask(request, nonce, started + deadline_s)
            break
        except OSError as exc:
            # an idle child that died since its last answer (broken pipe): once more, anew
            tail = child.stderr_tail()
            child.kill()
            if attempt:
                return RewardResult(0.0, "ERROR", total=len(spec.tests),
                                    message=f"the judge child is gone: {exc}: {tail}")
    elapsed = time.monotonic() - started
    if line is None:
        dead = child.proc.poll() is not None
        tail = child.stderr_tail()
        child.kill()
        if not dead:
            return RewardResult(0.0, "DEADLINE", total=len(spec.tests), elapsed_s=elapsed,
                                message=f"not judged within {deadline_s:g} s")
        return RewardResult(0.0, "ERROR", total=len(spec.tests), elapsed_s=elapsed,
                            message=f"the judge exited {child.proc.returncode} without a verdict: {tail}")
    _give_back(child)
    try:
        result = RewardResult(**json.loads(line))
    except (ValueError, TypeError) as exc:
        return RewardResult(0.0, "ERROR", total=len(spec.tests), elapsed_s=elapsed,
                            message=f"unreadable judge answer: {exc}")
    result.score = min(1.0, max(0.0, float(result.score)))
    result.elapsed_s = elapsed
    return result


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not time out
        pass


def score_completion(completion: Any, spec: JudgeSpec | dict | str, *, language: str = "python3",
                     deadline_s: float = DEFAULT_DEADLINE_S, partial_credit: bool = False) -> RewardResult:
    """Extract, then judge. `spec` may be a JudgeSpec, its dict, or an export's ground truth."""
    try:
        if not isinstance(spec, JudgeSpec):
            spec = judge_spec_from_ground_truth(spec)
    except JudgeSpecError as exc:
        return RewardResult(0.0, "BAD_SPEC", message=str(exc))
    if not spec.tests:
        return RewardResult(0.0, "BAD_SPEC", message="the problem has no tests")
    code = extract_code(_completion_text(completion))
    if not code.strip():
        return RewardResult(0.0, "NO_CODE", total=len(spec.tests), message="no fenced code block")
    return score_code(code, spec, language=language, deadline_s=deadline_s, partial_credit=partial_credit)


def score_many(pairs: Iterable[tuple[Any, Any]], *, workers: int = DEFAULT_WORKERS,
               deadline_s: float = DEFAULT_DEADLINE_S, partial_credit: bool = False) -> list[RewardResult]:
    """(completion, spec) pairs judged `workers` at a time, in order. Never raises."""
    pairs = list(pairs)

    def one(pair):
        try:
            return score_completion(pair[0], pair[1], deadline_s=deadline_s, partial_credit=partial_credit)
        except Exception as exc:  # noqa: BLE001 — the trainer must never see an exception
            return RewardResult(0.0, "ERROR", message=f"{type(exc).__name__}: {exc}")

    if len(pairs) <= 1 or workers <= 1:
        return [one(p) for p in pairs]
    with ThreadPoolExecutor(max_workers=min(workers, len(pairs))) as pool:
        return list(pool.map(one, pairs))


def _completion_text(completion: Any) -> str:
    """TRL passes conversational completions as [{"role": "assistant", "content": ...}]."""
    if isinstance(completion, list):
        return "\n".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    return completion if isinstance(completion, str) else ""


def _settings() -> tuple[float, int, bool]:
    deadline = float(os.environ.get("MICROCODER_REWARD_DEADLINE_S") or DEFAULT_DEADLINE_S)
    workers = int(os.environ.get("MICROCODER_REWARD_WORKERS") or DEFAULT_WORKERS)
    partial = os.environ.get("MICROCODER_REWARD_PARTIAL", "0") == "1"
    return deadline, workers, partial


# --- adapters ----------------------------------------------------------------------------------


def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: Any = None, **_kwargs) -> dict:
    """verl's `custom_reward_function` (`custom_reward_function.path=<this file>`,
    `custom_reward_function.name=compute_score`). verl logs every numeric key of the dict."""
    deadline, _workers, partial = _settings()
    try:
        result = score_completion(solution_str, ground_truth, deadline_s=deadline, partial_credit=partial)
    except Exception as exc:  # noqa: BLE001
        result = RewardResult(0.0, "ERROR", message=f"{type(exc).__name__}: {exc}")
    return {"score": result.score, "acc": 1.0 if result.verdict == "AC" else 0.0,
            "passed": float(result.passed), "total": float(result.total)}


def trl_reward(prompts: list, completions: list, **columns) -> list[float]:
    """TRL's reward function: GRPOTrainer passes the dataset's other columns (tests, io_format,
    function_name, comparison[, judge]) as lists aligned with `completions`."""
    deadline, workers, partial = _settings()
    n = len(completions)

    def column(name: str, default: Any = None) -> list:
        values = columns.get(name)
        return list(values) if values is not None else [default] * n

    pairs = []
    for completion, tests, io_format, fn, comparison, judge in zip(
            completions, column("tests"), column("io_format", "stdin"), column("function_name", ""),
            column("comparison"), column("judge")):
        try:
            spec: Any = judge_spec_from_columns(tests=tests, io_format=io_format, function_name=fn,
                                                comparison=comparison, judge=judge)
        except JudgeSpecError as exc:
            spec = {"error": str(exc)}  # score_completion turns it into BAD_SPEC
        pairs.append((completion, spec))
    return [r.score for r in score_many(pairs, workers=workers, deadline_s=deadline, partial_credit=partial)]


trl_reward.__name__ = "microcoder_reward"  # TRL names its logged metric rewards/<function name>/...


# --- the child process -------------------------------------------------------------------------


def _judge_request(request: dict, config) -> RewardResult:
    try:
        spec = JudgeSpec.from_dict(request["spec"])
        report = spec.judge(request["code"], request["language"], config=config)
        verdict = report.verdict.value
        passed, total = report.passed, report.total
        if request.get("partial_credit"):
            score = passed / total if total else 0.0
        else:
            score = 1.0 if verdict == "AC" and passed == total and total > 0 else 0.0
        first_bad = next((t for t in report.tests if t.verdict.value != "AC"), None)
        message = f"test {first_bad.index}: {first_bad.verdict.value} {first_bad.diff}"[:300] if first_bad else ""
        return RewardResult(score, verdict, passed, total, message)
    except Exception as exc:  # noqa: BLE001 — reported, never raised
        return RewardResult(0.0, "ERROR", message=f"{type(exc).__name__}: {exc}"[:300])


def _serve_main() -> int:
    """The judge child: one JSON request per line on stdin, one answer per line (the request's
    nonce, then the result as JSON) on its own stdout, until stdin closes."""
    # Our own stdout is the answer channel: keep it to ourselves by moving the real one aside.
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    from curation.judge.sandbox import SandboxConfig

    config = SandboxConfig(allow_unsandboxed=os.environ.get("JUDGE_ALLOW_UNSANDBOXED", "0") == "1")
    for raw in sys.stdin.buffer:
        try:
            request = json.loads(raw.decode("utf-8"))
            nonce = str(request["nonce"])
        except (ValueError, KeyError, TypeError):
            continue            # not a request from our parent: nothing to answer
        result = _judge_request(request, config)
        answer.write(nonce + json.dumps(result.to_dict()) + "\n")
        answer.flush()
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        sys.exit(_serve_main())
    print("usage: python -m training_jobs.reward --serve  (internal: judging requests, one per line, on stdin)")
    sys.exit(2)
