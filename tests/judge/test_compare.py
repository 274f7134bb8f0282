import pytest

from curation.judge import compare_output, compare_value, detect_float_tolerance
from curation.judge.driver import encode_value, parse_args, parse_literal
from curation.judge.results import JudgeReport, TestResult, Verdict


@pytest.mark.parametrize("actual,expected,rule,ok", [
    ("1 2\n3\n", "1 2 3", None, True),
    ("1 2 3", "1 2 4", None, False),
    ("1 2", "1 2 3", None, False),
    ("1 2 3 4", "1 2 3", None, False),
    ("a\r\nb\r\n", "a\nb\n", {"mode": "exact"}, True),
    ("a b\n", "a  b\n", {"mode": "exact"}, False),
    ("a\n", "a", {"mode": "exact"}, False),
    ("YES", "yes", {"mode": "case_insensitive"}, True),
    ("YES", "yes", {"mode": "tokens"}, False),
    ("0.3333333", "0.333333333", {"mode": "float", "abs_tol": 1e-6, "rel_tol": 1e-6}, True),
    ("0.334", "0.333333333", {"mode": "float", "abs_tol": 1e-6, "rel_tol": 1e-6}, False),
    ("1000000.1", "1000000.0", {"mode": "float", "abs_tol": 0, "rel_tol": 1e-6}, True),
    ("1000000.1", "1000000.0", {"mode": "float", "abs_tol": 1e-6, "rel_tol": 0}, False),
    ("YES 0.5", "NO 0.5", {"mode": "float"}, False),
    ("YES 0.5000001", "YES 0.5", {"mode": "float"}, True),
    ("nan", "nan", {"mode": "float"}, True),
    ("1e-7", "0", {"mode": "float"}, True),
])
def test_compare_output(actual, expected, rule, ok):
    got, diff = compare_output(actual, expected, rule)
    assert got is ok
    assert (diff == "") is ok
    assert len(diff) <= 200


def test_diff_names_first_difference():
    ok, diff = compare_output("1 2 9 4", "1 2 3 4")
    assert not ok and "token 3" in diff and "'3'" in diff and "'9'" in diff
    ok, diff = compare_output("a\nb\nc", "a\nx\nc", {"mode": "exact"})
    assert "line 2" in diff
    ok, diff = compare_output("x" * 10000, "y" * 10000)
    assert len(diff) <= 200


def test_unknown_rule():
    with pytest.raises(ValueError):
        compare_output("a", "a", {"mode": "regex"})


@pytest.mark.parametrize("text,tol", [
    ("Your answer is considered correct if its absolute or relative error does not exceed "
     "10^{-6}.", 1e-6),
    ("absolute or relative error doesn't exceed $10^{-9}$", 1e-9),
    ("The answer will be accepted if it is within 1e-9 of the correct one.", 1e-9),
    ("Answers within 10^-5 of the actual answer will be accepted.", 1e-5),
    ("print with relative or absolute error at most 10 - 4", None),
    ("Your answer will be considered correct if its absolute error does not exceed 10^{-4}",
     1e-4),
    ("the relative error should not exceed 1e-6", 1e-6),
    ("Print the answer with an absolute or relative error of at most 10^{−6}", 1e-6),
    ("Output the sum modulo 10^9+7.", None),
    ("", None),
])
def test_detect_float_tolerance(text, tol):
    rule = detect_float_tolerance(text)
    if tol is None:
        assert rule is None
    else:
        assert rule["mode"] == "float"
        assert max(rule["abs_tol"], rule["rel_tol"]) == pytest.approx(tol)


def test_detect_kind():
    assert detect_float_tolerance("its absolute error does not exceed 1e-4") == {
        "mode": "float", "abs_tol": 1e-4, "rel_tol": 0.0}
    assert detect_float_tolerance("its relative error does not exceed 1e-4") == {
        "mode": "float", "abs_tol": 0.0, "rel_tol": 1e-4}


def test_parse_args_styles():
    assert parse_args("n = 7, queries = [[0,5],[1,6]]") == ([], {"n": 7, "queries": [[0, 5], [1, 6]]})
    assert parse_args('root = [1,null,2], flag = true, s = "a,b"') == (
        [], {"root": [1, None, 2], "flag": True, "s": "a,b"})
    assert parse_args('[7, [[0, 5]]]') == ([7, [[0, 5]]], {})
    assert parse_args('{"n": 7, "q": [1]}') == ([], {"n": 7, "q": [1]})
    assert parse_args("7, 'x'") == ([7, "x"], {})
    assert parse_args("x = -3, y = -1.5") == ([], {"x": -3, "y": -1.5})


@pytest.mark.parametrize("bad", [
    "n = __import__('os').system('id')", "n = open('/etc/passwd')", "n = (lambda: 1)()",
    "n = [1] * 10**9", "**{'a': 1}", "n = x",
])
def test_parse_args_never_evaluates(bad):
    with pytest.raises((ValueError, SyntaxError)):
        parse_args(bad)


def test_parse_literal_and_encode():
    assert parse_literal("[1, (2, 3), {4}]") == [1, (2, 3), {4}]
    assert parse_literal("null") is None
    assert encode_value(float("inf")) == {"$float": "inf"}
    assert encode_value((1, {3, 2})) == [1, [2, 3]]


@pytest.mark.parametrize("actual,text,expected_text,ok", [
    ([2, 2, 2], None, "[2, 2, 2]", True),
    ([2, 2, 1], None, "[2, 2, 2]", False),
    ([[1, 2], [3]], None, "[(1, 2), (3,)]", True),
    (0.30000000000000004, None, "0.3", True),
    (0.31, None, "0.3", False),
    (True, None, "True", True),
    (True, None, "true", True),
    (1, None, "True", False),
    ("abc", "abc", "abc", True),          # datasets store str(result): strings unquoted
    ("123", "123", "123", True),
    ("abc", "abc", '"abc"', True),
    (123, "123", '"123"', False),
    ({"$float": "-inf"}, "-inf", "-inf", True),
    (None, "None", "None", True),
    (None, "None", "null", True),
    ({"a": [1]}, None, "{'a': [1]}", True),
    ([], "[]", "", False),
    ("", "", "", True),
])
def test_compare_value(actual, text, expected_text, ok):
    got, diff = compare_value(actual, text, expected_text)
    assert got is ok, diff


def test_report_worst_verdict():
    tests = [TestResult(0, Verdict.AC, time_wall=0.1), TestResult(1, Verdict.WA, time_wall=0.3),
             TestResult(2, Verdict.TLE, time_wall=2.0)]
    rep = JudgeReport.from_tests(tests, isolation="bubblewrap")
    assert rep.verdict == Verdict.TLE
    assert rep.counts == {"AC": 1, "WA": 1, "TLE": 1}
    assert rep.max_time_wall == 2.0
    assert rep.to_dict()["tests"][1]["verdict"] == "WA"
