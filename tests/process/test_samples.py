import re

from curation.process.normalize import markdown_section
from curation.process.samples import (
    extract_atcoder_samples,
    extract_fenced_samples,
    extract_leetcode_samples,
    extract_samples,
)

from .conftest import read_tests


def test_game_23_examples_exact(cc_problems):
    desc = cc_problems["1141_a_game_23_2618"]["description"]
    assert extract_samples(desc, "codeforces") == [("120 51840", "7"), ("42 42", "0"), ("48 72", "-1")]


def test_named_codeforces_examples_match_tests_exactly(cc_problems, cc_root):
    expected = {
        "1000_e_we_need_more_bosses_8440": [("5 5\n1 2\n2 3\n3 1\n4 1\n5 2", "2"), ("4 3\n1 2\n4 3\n3 2", "3")],
        # '#' data lines must not be taken for Markdown headings.
        "193_a_cutting_figure_2222": [("5 4\n####\n#..#\n#..#\n#..#\n####", "2"),
                                      ("5 5\n#####\n#...#\n#####\n#...#\n#####", "2")],
    }
    for pid, samples in expected.items():
        assert extract_samples(cc_problems[pid]["description"], "codeforces") == samples
    # Singular "Example" with several tests in one input; '#'/'.' grids.
    for pid in ("1343_a_candies_8456", "1344_b_monopole_magnets_1065",
                "1141_a_game_23_2618", "1000_e_we_need_more_bosses_8440"):
        got = extract_samples(cc_problems[pid]["description"], "codeforces")
        tests = read_tests(cc_root / pid)
        assert got and all(s in tests for s in got), pid
    # A data line reading "Note" (a word of the dictionary) does not end the examples.
    got = extract_samples(cc_problems["633_c_spy_syndrome_2_3594"]["description"])
    assert got[0][0].endswith("\nL\nand\nNote") and got[0][1] == "Kira is childish and he hates losing"


def test_all_codeforces_statements_yield_their_examples(cc_problems, cc_root):
    """Every statement's examples are found, and each input is one of the folder's known inputs
    (the `## Examples` section or tests/). Outputs may legitimately differ there ("print any")."""
    exact = 0
    for pid, p in cc_problems.items():
        got = extract_samples(p["description"], "codeforces")
        assert got, pid
        known = extract_fenced_samples(markdown_section(p["md"], "Examples")) + read_tests(cc_root / pid)
        known_inputs = {i for i, _ in known}
        assert all(i in known_inputs for i, _ in got), pid
        exact += all(s in known for s in got)
    assert exact >= 0.8 * len(cc_problems)  # 314/383; the rest accept any valid answer


def test_fenced_examples_section(cc_problems):
    got = extract_fenced_samples(markdown_section(cc_problems["1141_a_game_23_2618"]["md"], "Examples"))
    assert got == [("42 42", "0"), ("48 72", "-1"), ("120 51840", "7")]


def test_leetcode_v031_examples(lc_v031):
    rows = {r["task_id"]: r for r in lc_v031}
    got = extract_samples(rows["shortest-distance-after-road-addition-queries-i"]["problem_description"], "leetcode")
    assert got == [("n = 5, queries = [[2,4],[0,2],[0,4]]", "[3,2,1]"), ("n = 4, queries = [[0,3],[0,2]]", "[1,1]")]
    assert sum(1 for r in lc_v031 if extract_leetcode_samples(r["problem_description"])) == len(lc_v031)


def test_leetcode_v020_examples_match_dataset_tests(lc_v020):
    """v0.2.0's input_output are the statement's examples (as the dataset recorded them)."""
    def norm(s):
        return re.sub(r"\s+", "", s)

    same = 0
    for r in lc_v020:
        got = extract_samples(r["meta"]["question_title"], "leetcode")
        ref = [(x["input"], x["output"]) for x in r["input_output"]]
        same += [tuple(map(norm, g)) for g in got] == [tuple(map(norm, x)) for x in ref]
    assert same >= 0.85 * len(lc_v020)  # 1628/1890: the rest differ in the dataset itself
    two_sum = next(r for r in lc_v020 if r["task_id"] == "two-sum")
    assert extract_samples(two_sum["meta"]["question_title"])[0] == ("nums = [2,7,11,15], target = 9", "[0,1]")


def test_atcoder_layout():
    text = """Problem Statement
Print A+B.

Sample Input 1

1 2

Sample Output 1

3

Sample Input 2

```
10
20
```

Sample Output 2

```
30
```
"""
    assert extract_atcoder_samples(text) == [("1 2", "3"), ("10\n20", "30")]
    assert extract_samples(text) == [("1 2", "3"), ("10\n20", "30")]


def test_leetcode_design_layout_and_inner_lines():
    text = ("Example 1:\n\nInput\n[\"LRUCache\", \"put\", \"get\"]\n[[2], [1, 1], [1]]\nOutput\n[null, null, 1]\n\n"
            "Explanation\nLRUCache lRUCache = new LRUCache(2);\n\nConstraints:\n1 <= capacity <= 3000\n")
    assert extract_samples(text, "leetcode") == [
        ('["LRUCache", "put", "get"]\n[[2], [1, 1], [1]]', "[null, null, 1]")]


def test_no_examples():
    assert extract_samples("Just a story without examples.") == []
    assert extract_samples("") == []
