"""Output comparison rules.

A rule is a plain dict stored with the problem, e.g.::

    {"mode": "tokens"}                                   # default
    {"mode": "exact"}                                    # byte-exact (after \\r\\n -> \\n)
    {"mode": "float", "abs_tol": 1e-6, "rel_tol": 1e-6}  # numeric tokens with tolerance
    {"mode": "case_insensitive"}                         # tokens, case folded
    {"mode": "checker", "checker": "<python source>"}    # see CHECKER CONTRACT below

CHECKER CONTRACT
----------------
The checker is a Python 3 program (stdlib only) run inside the same sandbox as solutions
(no network, read-only system, no project files) as::

    python3 checker.py <input_file> <contestant_output_file> <expected_output_file>

(the testlib order: input, output, answer).  It must exit with status 0 when the
contestant output is correct (AC) and 1 when it is wrong (WA); anything else -- another
exit status, a crash, a timeout -- is a checker failure and gives SE for that test.
Whatever it prints to stdout/stderr (truncated) is kept as the diff message.
"""
from __future__ import annotations

import math
import re

DEFAULT_RULE = {"mode": "tokens"}
MODES = ("exact", "tokens", "float", "case_insensitive", "checker")
_DIFF_MAX = 200


def normalize_rule(rule: dict | None) -> dict:
    rule = dict(rule or DEFAULT_RULE)
    mode = rule.get("mode", "tokens")
    if mode not in MODES:
        raise ValueError(f"unknown comparison mode {mode!r}")
    rule["mode"] = mode
    if mode == "float":
        rule.setdefault("abs_tol", 1e-6)
        rule.setdefault("rel_tol", 1e-6)
    if mode == "checker" and not rule.get("checker"):
        raise ValueError("checker mode needs the checker's source in rule['checker']")
    return rule


def _short(s: str) -> str:
    s = s if len(s) <= 60 else s[:57] + "..."
    return repr(s)


def _trunc(s: str) -> str:
    return s if len(s) <= _DIFF_MAX else s[:_DIFF_MAX - 3] + "..."


def _float_eq(a: float, b: float, abs_tol: float, rel_tol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= max(abs_tol, rel_tol * abs(b))


def _as_number(tok: str) -> float | None:
    try:
        return float(tok)
    except ValueError:
        return None


def compare_output(actual: str, expected: str, rule: dict | None = None) -> tuple[bool, str]:
    """Compare a program's stdout with the expected output.

    Returns (ok, diff): diff names the first differing line/token (truncated), "" if ok.
    Checker rules are not handled here (they need the sandbox): see judge.py.
    """
    rule = normalize_rule(rule)
    mode = rule["mode"]
    if mode == "checker":
        raise ValueError("checker comparisons run in the sandbox (judge_solution)")
    if mode == "exact":
        a = actual.replace("\r\n", "\n")
        e = expected.replace("\r\n", "\n")
        if a == e:
            return True, ""
        al, el = a.split("\n"), e.split("\n")
        for n, (x, y) in enumerate(zip(al, el), 1):
            if x != y:
                return False, _trunc(f"line {n}: expected {_short(y)}, got {_short(x)}")
        return False, _trunc(f"expected {len(el)} lines, got {len(al)} lines")
    at, et = actual.split(), expected.split()
    ci = mode == "case_insensitive"
    fl = mode == "float"
    for n, (x, y) in enumerate(zip(at, et), 1):
        if x == y:
            continue
        if ci and x.casefold() == y.casefold():
            continue
        if fl:
            fx, fy = _as_number(x), _as_number(y)
            if fx is not None and fy is not None and _float_eq(
                    fx, fy, float(rule["abs_tol"]), float(rule["rel_tol"])):
                continue
        return False, _trunc(f"token {n}: expected {_short(y)}, got {_short(x)}")
    if len(at) != len(et):
        if len(at) < len(et):
            return False, _trunc(f"output ended after {len(at)} tokens; expected "
                                 f"{len(et)} (next: {_short(et[len(at)])})")
        return False, _trunc(f"extra output after {len(et)} tokens: {_short(at[len(et)])}")
    return True, ""


# ----------------------------------------------------------------------------------
# Functional (structured) comparison
# ----------------------------------------------------------------------------------
def _decode(v):
    """Undo driver.encode_value's tagging."""
    if isinstance(v, dict):
        if set(v) == {"$float"}:
            return float(v["$float"])
        return {k: _decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_decode(x) for x in v]
    return v


def _canon(v):
    """Expected literal -> the shape the driver produces (tuples -> lists, sets sorted)."""
    if isinstance(v, (list, tuple)):
        return [_canon(x) for x in v]
    if isinstance(v, (set, frozenset)):
        # the order the sandbox's reporter gives a returned set (driver.value_json)
        from .driver import value_json
        return [_canon(x) for x in sorted(v, key=lambda x: value_json(x, canon=True))]
    if isinstance(v, dict):
        return {str(k): _canon(x) for k, x in v.items()}
    return v


def values_equal(actual, expected, abs_tol: float = 1e-6, rel_tol: float = 1e-6) -> bool:
    """Structural equality: lists==tuples, floats with tolerance, bool is not int."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and actual == expected
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        if isinstance(expected, int) and isinstance(actual, int):
            return actual == expected
        return _float_eq(float(actual), float(expected), abs_tol, rel_tol)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(
            values_equal(a, e, abs_tol, rel_tol) for a, e in zip(actual, expected))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(
            values_equal(actual[k], expected[k], abs_tol, rel_tol) for k in expected)
    return type(actual) is type(expected) and actual == expected


def _first_value_diff(actual, expected, path="result") -> str:
    if isinstance(actual, list) and isinstance(expected, list):
        for i, (a, e) in enumerate(zip(actual, expected)):
            if not values_equal(a, e):
                return _first_value_diff(a, e, f"{path}[{i}]")
        return f"{path}: expected length {len(expected)}, got {len(actual)}"
    return f"{path}: expected {_short(repr(expected))}, got {_short(repr(actual))}"


def compare_value(actual_json, actual_text: str | None, expected_text: str,
                  rule: dict | None = None) -> tuple[bool, str]:
    """Compare a functional return value (decoded JSON from the sandbox) with the expected
    output text (a Python literal or JSON; an unparsable text is taken as a plain string,
    as datasets that store ``str(result)`` do).
    """
    from .driver import parse_literal
    rule = dict(rule or {})
    abs_tol = float(rule.get("abs_tol", 1e-6))
    rel_tol = float(rule.get("rel_tol", 1e-6))
    actual = _decode(actual_json)
    parsed_ok = True
    try:
        expected = _canon(parse_literal(expected_text))
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        import json
        try:
            expected = _decode(json.loads(expected_text))
        except ValueError:
            parsed_ok, expected = False, None
    if parsed_ok and values_equal(actual, expected, abs_tol, rel_tol):
        return True, ""
    # Datasets store str(result): a string result "abc" is stored as abc, "123" as 123.
    if isinstance(actual, str) and actual == expected_text.strip():
        return True, ""
    if not parsed_ok and actual_text is not None and actual_text.strip() == expected_text.strip():
        return True, ""
    if parsed_ok:
        return False, _trunc(_first_value_diff(actual, expected))
    return False, _trunc(f"expected {_short(expected_text)}, got {_short(repr(actual))}")


# ----------------------------------------------------------------------------------
# Tolerance detection in statements
# ----------------------------------------------------------------------------------
_NUM = r"(?:10\s*\^\s*\{?\s*(-\s*\d+)\s*\}?|10\s*\*\*\s*\(?\s*(-\s*\d+)\s*\)?|" \
       r"(\d+(?:\.\d+)?)\s*[eE]\s*(-\s*\d+)|(\d+(?:\.\d+)?)\s*[⋅·x×\*]\s*10\s*\^\s*\{?\s*(-\s*\d+)\s*\}?|" \
       r"(0\.0*\d+))"
_TOL_PATTERNS = [
    # "absolute or relative error does not exceed 10^{-6}" / "... is at most 1e-9"
    (re.compile(r"(absolute\s+or\s+relative|relative\s+or\s+absolute)\s+error[^.]{0,80}?"
                + _NUM, re.I), "both"),
    (re.compile(r"relative\s+error[^.]{0,80}?" + _NUM, re.I), "rel"),
    (re.compile(r"absolute\s+error[^.]{0,80}?" + _NUM, re.I), "abs"),
    (re.compile(r"(?:error|precision|accuracy)[^.]{0,60}?" + _NUM, re.I), "both"),
    (re.compile(r"within\s+(?:an?\s+)?(?:error\s+of\s+)?" + _NUM, re.I), "both"),
    (re.compile(r"\$?\\?pm\s*" + _NUM, re.I), "both"),
]


def _num_from(m: re.Match) -> float | None:
    g = m.groups()[-7:]
    try:
        if g[0]:
            return 10.0 ** int(g[0].replace(" ", ""))
        if g[1]:
            return 10.0 ** int(g[1].replace(" ", ""))
        if g[2]:
            return float(g[2]) * 10.0 ** int(g[3].replace(" ", ""))
        if g[4]:
            return float(g[4]) * 10.0 ** int(g[5].replace(" ", ""))
        if g[6]:
            return float(g[6])
    except (TypeError, ValueError):
        return None
    return None


def detect_float_tolerance(statement_text: str) -> dict | None:
    """Find a floating-point tolerance in a statement, e.g. "absolute or relative error
    does not exceed 10^{-6}", "within 1e-9", "answers within 10^-5 of the actual answer
    will be accepted".  Returns a float rule dict or None.
    """
    if not statement_text:
        return None
    text = statement_text.replace("$", " ").replace("\\,", "").replace("−", "-")
    text = re.sub(r"\\(?:cdot|times)", "*", text)
    for pat, kind in _TOL_PATTERNS:
        m = pat.search(text)
        if not m:
            continue
        tol = _num_from(m)
        if tol is None or not (0 < tol < 1):
            continue
        if kind == "rel":
            return {"mode": "float", "abs_tol": 0.0, "rel_tol": tol}
        if kind == "abs":
            return {"mode": "float", "abs_tol": tol, "rel_tol": 0.0}
        return {"mode": "float", "abs_tol": tol, "rel_tol": tol}
    return None
