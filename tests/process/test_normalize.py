from curation.process.normalize import (
    FORMAT_INSTRUCTIONS,
    IO_FUNCTIONAL,
    IO_STDIN,
    clean_text,
    detect_incomplete,
    detect_io_format,
    format_instruction,
    html_to_markdown,
    looks_like_html,
    normalize_statement,
    parse_starter_code,
)

HTML = (
    r"<p>Given $a_i$ and $$\sum_{i=1}^n a_i$$ with <b>bold</b> and \(x_1 * y_2\) &nbsp;where "
    r"n \u2264 5, $a &lt; b$.</p><pre>1 2" "\n" r"3 4</pre><p>Let $$$n$$$ be even.</p>"
)


def test_html_detection():
    assert looks_like_html(HTML)
    assert not looks_like_html("if a < b and c > d then print a <= b")
    assert not looks_like_html("Plain **markdown** with $x_1$")


def test_html_to_markdown_keeps_latex_untouched():
    md = normalize_statement(HTML)
    assert "$a_i$" in md  # no markdown escaping of _ inside maths
    assert r"$$\sum_{i=1}^n a_i$$" in md
    assert r"\(x_1 * y_2\)" in md
    assert "**bold**" in md
    assert "n ≤ 5" in md
    assert "$a < b$" in md  # entity in maths decoded
    assert "$n$ be even" in md  # Codeforces $$$n$$$
    assert "```\n1 2\n3 4\n```" in md
    assert "&nbsp;" not in md and "\xa0" not in md


def test_html_to_markdown_direct():
    assert html_to_markdown("<p>x_1 is $y_1$</p>").strip() == "x_1 is $y_1$"


def test_clean_text_artefacts():
    raw = "1 \\u2264 n \\u2264 10^5\u00a0and\u200b zero\ufeffwidth; cost 5$ only\r\nLet $$$x$$$ and $$$$$$y$$$$$$"
    out = clean_text(raw)
    assert "1 ≤ n ≤ 10^5 and zerowidth" in out
    assert "cost 5\\$ only" in out  # stray $ escaped
    assert "Let $x$ and $$y$$" in out
    assert "\r" not in out
    assert clean_text(out) == out  # idempotent
    assert clean_text("pairs $a$ and $b$ stay") == "pairs $a$ and $b$ stay"
    assert clean_text(r"escaped \$ stays") == r"escaped \$ stays"


def test_starter_code_signature_named_problems(lc_v031):
    rows = {r["task_id"]: r for r in lc_v031}
    fmt = detect_io_format(rows["shortest-distance-after-road-addition-queries-i"]["problem_description"],
                           rows["shortest-distance-after-road-addition-queries-i"]["starter_code"])
    assert fmt.io_format == IO_FUNCTIONAL
    assert fmt.function_name == "shortestDistanceAfterQueries"
    assert [(p.name, p.annotation) for p in fmt.signature.params] == [("n", "int"), ("queries", "List[List[int]]")]
    assert fmt.signature.returns == "List[int]"
    assert str(fmt.signature) == "shortestDistanceAfterQueries(n: int, queries: List[List[int]]) -> List[int]"

    sig = detect_io_format("", rows["find-the-power-of-k-size-subarrays-i"]["starter_code"]).signature
    assert (sig.function_name, [(p.name, p.annotation) for p in sig.params], sig.returns) == (
        "resultsArray", [("nums", "List[int]"), ("k", "int")], "List[int]")

    # Commented TreeNode definition above class Solution.
    sig = detect_io_format("", rows["k-th-largest-perfect-subtree-size-in-binary-tree"]["starter_code"]).signature
    assert sig.function_name == "kthLargestPerfectSubtree"
    assert sig.to_dict()["params"] == [{"name": "root", "annotation": "Optional[TreeNode]"},
                                       {"name": "k", "annotation": "int"}]
    assert sig.returns == "int"

    sig = detect_io_format("", rows["count-the-number-of-winning-sequences"]["starter_code"]).signature
    assert (sig.function_name, str(sig)) == ("countWinningSequences", "countWinningSequences(s: str) -> int")


def test_every_leetcode_function_name_matches_entry_point(lc_v031, lc_v020):
    for r in lc_v031:
        fmt = detect_io_format(r["problem_description"], r["starter_code"])
        assert fmt.function_name == r["entry_point"].split(".")[-1], r["task_id"]
    for r in lc_v020:  # v0.2.0 has no starter_code field: the class sits in a code block of `query`
        fmt = detect_io_format(r["query"])
        assert fmt.io_format == IO_FUNCTIONAL, r["task_id"]
        assert fmt.function_name == r["entry_point"].split(".")[-1], r["task_id"]


def test_design_class_and_hint():
    code = "class LRUCache:\n\n    def __init__(self, capacity: int):\n        \n\n    def get(self, key: int) -> int:\n        \n"
    fmt = detect_io_format("", code)
    assert fmt.io_format == IO_FUNCTIONAL and fmt.function_name == "LRUCache"
    assert fmt.signature.methods == ("get",)
    two = "class Solution:\n    def helper(self, x: int) -> int:\n        \n    def main(self, s: str) -> bool:\n"
    assert detect_io_format("", two, "Solution().main").function_name == "main"
    assert parse_starter_code("not python at all (") is None


def test_codecontests_are_stdin_and_complete(cc_problems):
    for pid, p in cc_problems.items():
        fmt = detect_io_format(p["description"])
        assert fmt == (IO_STDIN, "", None), pid
        assert detect_incomplete(p["description"], IO_STDIN) == [], pid


def test_format_instructions_versioned():
    assert set(FORMAT_INSTRUCTIONS) >= {(IO_STDIN, "v1"), (IO_FUNCTIONAL, "v1")}
    assert "standard input" in format_instruction(IO_STDIN)
    text = format_instruction(IO_FUNCTIONAL, "twoSum", "class Solution:\n    def twoSum(self, nums: List[int]) -> int:\n")
    assert "`twoSum`" in text and "class Solution" in text and "```python" in text
    try:
        format_instruction(IO_STDIN, version="v999")
    except ValueError:
        pass
    else:
        raise AssertionError("unknown version must raise")


def test_detect_incomplete_reasons():
    assert detect_incomplete("Solve it.", IO_STDIN) == ["no_input_section", "no_output_section", "too_short"]
    assert "image_only" in detect_incomplete("<img src='statement.png'>\n\nSee picture.", IO_FUNCTIONAL)
    assert "image_only" in detect_incomplete("![statement](https://x/y.png)", IO_STDIN)
    long_story = "Vasya has an array of integers and wants to know something about it. " * 5
    ok = long_story + "\n\nInput\n\nThe first line contains n.\n\nOutput\n\nPrint the answer."
    assert detect_incomplete(ok, IO_STDIN) == []
    assert detect_incomplete(long_story + "\n\nOutput\n\nPrint it.", IO_STDIN) == ["no_input_section"]
    assert detect_incomplete(long_story, IO_FUNCTIONAL) == []  # sections only matter for stdin
