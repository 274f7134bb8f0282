"""Checkers for problems that accept many answers: detect them, synthesise one with an LLM, and keep
a candidate only if the sandbox shows it is both correct and strict.

Pure Python (no Django); the LLM is any `complete(messages) -> str` callable and the sandbox is
`run_checker` (injectable for unit tests), so the same core serves the service, a command and tests.

Why a mutation test: an LLM-written checker can be wrong in two ways. Too strict — it rejects the
jury's answer or the reference solution's different-but-valid answer — is caught by running it on
those. Too lenient — it accepts anything, or only counts tokens — would silently mark every wrong
program correct in verification and in the RL reward, which is worse. So a candidate must also
reject outputs derived from a valid answer by changes that make it wrong: a number changed, a line
or token missing or extra, an empty output, lines shuffled (where the statement does not allow any
order), YES/NO flipped. A mutant can by chance still be a valid answer ("print any"), so each kind
must be rejected in most — not all — of its cases (`MIN_KIND_REJECTION`).

Contract of a checker (the judge's, `curation.judge.compare`): Python 3, standard library only,
run as `checker.py <input> <contestant_output> <jury_answer>`; exit 0 = accepted, exit 1 = wrong.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

CHECKER_PROMPT_VERSION = "checker-v1"
MAX_PROMPT_TESTS = 3  # tests shown to the model
MAX_VALIDATION_TESTS = 12  # tests the candidate is run on (accept + mutants)
MAX_SHOWN_CHARS = 1500  # per test input/output in the prompt
MIN_KIND_REJECTION = 0.8  # share of a mutation kind's cases the checker must reject
MIN_TOTAL_REJECTION = 0.9

# Statement wording of "many answers are correct". Broader than the verification stage's first
# heuristic: Codeforces says it a dozen ways ("print any of them", "if there are several
# solutions", "output any", "you may print", "any valid", "it is allowed to print").
MANY_ANSWERS = re.compile(
    r"print any|output any|any of them|any valid|any correct|any such|any possible|any one of|"
    r"any optimal|any suitable|any answer|any solution|any of the (?:answers|solutions|possible)|"
    r"if there (?:are|is|exist|exists) (?:several|multiple|many|more than one)|"
    r"there (?:may|might|can) be (?:several|multiple|many|more than one)|"
    r"(?:several|multiple|many) (?:possible |correct |valid |optimal )?(?:answers|solutions)|"
    r"you (?:may|can) (?:print|output) (?:any|either)|(?:is|are) allowed to (?:print|output)|"
    r"in any order|in arbitrary order|order (?:does not|doesn't) matter",
    re.I,
)
ANY_ORDER = re.compile(r"in any order|in arbitrary order|order (?:does not|doesn't) matter|any permutation", re.I)
Runner = Callable[[str, list[tuple[str, str, str]]], list[tuple[bool | None, str]]]


def accepts_many_answers(statement: str) -> bool:
    """Does the statement say that more than one output is correct?"""
    return bool(MANY_ANSWERS.search(statement or ""))


def _shape(text: str) -> list[int]:
    return [len(line.split()) for line in text.strip().split("\n")] if text.strip() else []


def outputs_disagree_in_shape(expected: Sequence[str], actual: Sequence[str | None]) -> bool:
    """A reference that answers a multi-token test differently but in the same shape (lines ×
    tokens), or with the same first token (YES/-1/the count) and a different rest: the mark of an
    alternative valid answer rather than a wrong reference."""
    for exp, act in zip(expected, actual):
        if act is None or act.split() == exp.split():
            continue
        e, a = exp.split(), act.split()
        # A single value that differs is a wrong answer, not another valid one.
        if len(e) > 1 and (_shape(exp) == _shape(act) or (a and e[0] == a[0])):
            return True
    return False


# --------------------------------------------------------------------------------------------
# The problem as the synthesiser sees it
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckerTask:
    title: str
    statement: str
    tests: tuple[tuple[str, str], ...]  # (input, jury answer)
    # The reference solution's own output per test (None where it failed or was not run): a
    # valid answer that may differ from the jury's, which the checker must accept too.
    reference_outputs: tuple[str | None, ...] = ()

    @property
    def order_matters(self) -> bool:
        return not ANY_ORDER.search(self.statement or "")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "\n… (truncated)"


def build_messages(task: CheckerTask, feedback: str = "") -> list[dict]:
    """Chat messages asking for a checker (versioned by CHECKER_PROMPT_VERSION)."""
    shown = []
    refs = list(task.reference_outputs) + [None] * len(task.tests)
    for i, (inp, ans) in enumerate(task.tests[:MAX_PROMPT_TESTS]):
        part = f"### Test {i + 1}\nInput:\n```\n{_clip(inp)}\n```\nJury answer:\n```\n{_clip(ans)}\n```"
        ref = refs[i]
        if ref is not None and ref.split() != ans.split():
            part += f"\nAnother correct answer (from a reference solution):\n```\n{_clip(ref)}\n```"
        shown.append(part)
    user = (
        f"Problem: {task.title}\n\n<statement>\n{task.statement}\n</statement>\n\n"
        "This problem accepts more than one correct output. Write an output checker for it.\n\n"
        "Contract: a Python 3 program using only the standard library, run as\n"
        "`python3 checker.py INPUT_FILE CONTESTANT_OUTPUT_FILE JURY_ANSWER_FILE`.\n"
        "Exit with status 0 if the contestant's output is correct, 1 if it is wrong.\n"
        "Check the contestant's output for validity against the input (do not just compare it with\n"
        "the jury answer, which is only one correct answer); use the jury answer for facts every\n"
        "correct answer shares (whether a solution exists, the optimal value). Reject malformed\n"
        "output, missing or extra tokens, and values out of range; never crash on bad output.\n\n"
        + "\n\n".join(shown)
        + "\n\nAnswer with the checker in a single ```python code block."
    )
    if feedback:
        user += f"\n\nA previous checker was rejected: {feedback}\nFix it."
    return [
        {"role": "system", "content": "You write precise output checkers for competitive programming problems."},
        {"role": "user", "content": user},
    ]


_CODE = re.compile(r"```(?:python3?|py)?[ \t]*\n(.*?)```", re.S)


class CheckerRejected(ValueError):
    """A candidate that cannot be used; the message says why."""


def extract_checker(answer: str) -> str:
    """The Python code of a model's answer (the longest fenced block); compiled to catch syntax errors."""
    blocks = _CODE.findall(answer or "")
    code = max(blocks, key=len) if blocks else ""
    if not code.strip():
        raise CheckerRejected("the answer holds no Python code block")
    try:
        compile(code, "checker.py", "exec")
    except (SyntaxError, ValueError) as exc:
        raise CheckerRejected(f"the checker does not compile: {exc}") from None
    return code


# --------------------------------------------------------------------------------------------
# Mutations
# --------------------------------------------------------------------------------------------

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+\.\d+")


def _bump(token: str) -> str:
    if _INT.fullmatch(token):
        return str(int(token) + 1)
    decimals = len(token.split(".")[1])
    return f"{float(token) + 1:.{decimals}f}"


def mutations(answer: str, *, order_matters: bool = True) -> list[tuple[str, str]]:
    """Wrong outputs derived from a correct one: (kind, output). Each differs in its tokens."""
    lines = [line.split() for line in answer.strip().split("\n")] if answer.strip() else []
    tokens = [t for line in lines for t in line]
    found: list[tuple[str, str]] = []

    def text(ls: list[list[str]]) -> str:
        return "\n".join(" ".join(line) for line in ls) + "\n"

    numbers = [(r, c) for r, line in enumerate(lines) for c, t in enumerate(line) if _INT.fullmatch(t) or _FLOAT.fullmatch(t)]
    if numbers:
        r, c = numbers[len(numbers) // 2]
        changed = [list(line) for line in lines]
        changed[r][c] = _bump(changed[r][c])
        found.append(("wrong_number", text(changed)))
    if len(lines) >= 2:
        found.append(("wrong_count", text(lines[:-1])))
    elif len(tokens) >= 2:
        found.append(("wrong_count", text([lines[0][:-1]])))
    if tokens:
        found.append(("extra_output", text(lines + [[tokens[-1]]])))
        found.append(("empty", ""))
    # Reordering is a certain error only where it moves lines of different shapes ("YES" before
    # the edges, k before the sequence); a list of same-shaped lines or a pair of numbers may be
    # valid in another order even when the statement does not say "in any order".
    shapes = [len(line) for line in lines]
    if order_matters and len(lines) >= 2 and shapes[::-1] != shapes:
        found.append(("shuffled", text(lines[::-1])))
    if tokens and tokens[0].upper() in ("YES", "NO"):
        flipped = [list(line) for line in lines]
        flipped[0][0] = "NO" if tokens[0].upper() == "YES" else "YES"
        found.append(("yes_no_flipped", text(flipped)))
    return [(kind, out) for kind, out in found if out.split() != tokens]


# --------------------------------------------------------------------------------------------
# Validation in the sandbox
# --------------------------------------------------------------------------------------------


@dataclass
class CheckerValidation:
    ok: bool
    reason: str
    accepted_valid: int = 0
    valid_total: int = 0
    rejected_by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [rejected, total]
    examples: list[str] = field(default_factory=list)  # a few failures, for the curator

    def to_dict(self) -> dict:
        return {"ok": self.ok, "reason": self.reason, "accepted_valid": self.accepted_valid,
                "valid_total": self.valid_total, "rejected_by_kind": self.rejected_by_kind,
                "examples": self.examples}


def _default_runner(source: str, triples: list[tuple[str, str, str]]) -> list[tuple[bool | None, str]]:
    from .judge import run_checker  # the sandbox machinery; imported only when a checker runs

    return run_checker(source, triples)


def validate_checker(source: str, task: CheckerTask, *, run: Runner | None = None) -> CheckerValidation:
    """Run the candidate on valid answers (must accept every one) and on mutants (must reject
    nearly all), in one sandbox. Never raises for a bad checker: the result says why."""
    run = run or _default_runner
    try:
        compile(source, "checker.py", "exec")
    except (SyntaxError, ValueError) as exc:
        return CheckerValidation(False, f"the checker does not compile: {exc}")
    tests = list(task.tests[:MAX_VALIDATION_TESTS])
    if not tests:
        return CheckerValidation(False, "the problem has no tests to validate a checker on")
    refs = list(task.reference_outputs) + [None] * len(tests)
    valid: list[tuple[int, str, str]] = []  # (test, what, output)
    for i, (inp, ans) in enumerate(tests):
        valid.append((i, "the jury answer", ans))
        if refs[i] is not None and refs[i].split() != ans.split():
            valid.append((i, "the reference solution's answer", refs[i]))
    mutants = [(i, kind, out) for i, (_inp, ans) in enumerate(tests)
               for kind, out in mutations(ans, order_matters=task.order_matters)]
    triples = [(tests[i][0], out, tests[i][1]) for i, _w, out in valid] + \
              [(tests[i][0], out, tests[i][1]) for i, _k, out in mutants]
    results = run(source, triples)
    if len(results) != len(triples):
        return CheckerValidation(False, f"the sandbox returned {len(results)} results for {len(triples)} runs")
    v = CheckerValidation(False, "", valid_total=len(valid))
    failures = []
    for (i, what, _out), (ok, msg) in zip(valid, results[:len(valid)]):
        if ok is True:
            v.accepted_valid += 1
        elif ok is None:
            failures.append(f"test {i + 1}: the checker failed on {what}: {msg}")
        else:
            failures.append(f"test {i + 1}: rejects {what}" + (f" ({msg})" if msg else ""))
    if failures:
        v.reason = f"rejects a correct answer: {failures[0]}"
        v.examples = failures[:5]
        return v
    missed = []
    for (i, kind, out), (ok, msg) in zip(mutants, results[len(valid):]):
        counts = v.rejected_by_kind.setdefault(kind, [0, 0])
        counts[1] += 1
        if ok is False:
            counts[0] += 1
        elif ok is None:
            v.reason = f"the checker failed on a wrong output (test {i + 1}, {kind}): {msg}"
            v.examples = [v.reason]
            return v
        else:
            missed.append(f"test {i + 1}: accepts a wrong output ({kind}): {out[:80]!r}")
    v.examples = missed[:5]
    total = sum(t for _r, t in v.rejected_by_kind.values())
    rejected = sum(r for r, _t in v.rejected_by_kind.values())
    weak = sorted(k for k, (r, t) in v.rejected_by_kind.items() if r < MIN_KIND_REJECTION * t)
    if not total:
        v.reason = "no wrong outputs could be derived from the tests"
        return v
    if weak or rejected < MIN_TOTAL_REJECTION * total:
        v.reason = (f"too lenient: rejects {rejected} of {total} wrong outputs"
                    + (f"; accepts most of: {', '.join(weak)}" if weak else "")
                    + (f" — e.g. {missed[0]}" if missed else ""))
        return v
    v.ok = True
    v.reason = f"accepts all {len(valid)} correct answers and rejects {rejected} of {total} wrong outputs"
    return v


# --------------------------------------------------------------------------------------------
# Synthesis
# --------------------------------------------------------------------------------------------


@dataclass
class SynthesisResult:
    source: str | None  # the accepted checker, or None
    validation: CheckerValidation
    attempts: list[dict] = field(default_factory=list)  # {"source", "reason"} per candidate tried

    @property
    def ok(self) -> bool:
        return self.source is not None


def synthesize_checker(task: CheckerTask, complete: Callable[[list[dict]], str], *, attempts: int = 2,
                       run: Runner | None = None) -> SynthesisResult:
    """Ask `complete` for a checker, validate it; on rejection ask again with the reason, up to
    `attempts` candidates. Errors of the LLM call propagate (the service records them)."""
    feedback = ""
    tried: list[dict] = []
    last = CheckerValidation(False, "no candidate")
    for _ in range(max(1, attempts)):
        answer = complete(build_messages(task, feedback))
        try:
            source = extract_checker(answer)
        except CheckerRejected as exc:
            last = CheckerValidation(False, str(exc))
            tried.append({"source": (answer or "")[:4000], "reason": last.reason})
            feedback = last.reason
            continue
        last = validate_checker(source, task, run=run)
        tried.append({"source": source, "reason": last.reason})
        if last.ok:
            return SynthesisResult(source, last, tried)
        feedback = last.reason + ("\n" + "\n".join(last.examples[:3]) if last.examples else "")
    return SynthesisResult(None, last, tried)
