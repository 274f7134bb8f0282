"""The importers against the real data in ../shared/data (skipped where it is absent)."""
from __future__ import annotations

from collections import Counter

import pytest

from .helpers import SHARED_DATA, by_id, run

CODECONTESTS = SHARED_DATA / "codecontests"
LEETCODE = SHARED_DATA / "leetcode"
V031 = LEETCODE / "LeetCodeDataset-v0.3.1-test.jsonl.gz"
V020 = LEETCODE / "LeetCodeDataset-v0.2.0-train.jsonl.gz"

needs_codecontests = pytest.mark.skipif(not CODECONTESTS.is_dir(), reason="shared codecontests data absent")
needs_leetcode = pytest.mark.skipif(not V031.is_file() or not V020.is_file(), reason="shared leetcode data absent")


@pytest.fixture(scope="module")
def codecontests():
    return run("codecontests-dir", CODECONTESTS)


@needs_codecontests
def test_codecontests_all_folders_import(codecontests):
    problems, errors = codecontests
    assert errors == []
    assert len(problems) == 383
    assert len({p.external_id for p in problems}) == 383
    for p in problems:
        assert p.platform == "codeforces"
        assert p.statement and p.title and p.contest_id and p.problem_index
        assert p.tests and p.solutions and p.solutions[0].language == "python3"
        assert len(p.raw_hash) == 64
        assert "## Examples" not in p.statement and "## Testing" not in p.statement
        assert 1 <= sum(t.kind == "sample" for t in p.tests) <= 3


@needs_codecontests
def test_codecontests_named_problem(codecontests):
    p = by_id(codecontests[0])["1141_a_game_23_2618"]
    assert p.title == "Game 23"
    assert (p.contest_id, p.problem_index) == ("1141", "A")
    assert p.url == "https://codeforces.com/problemset/problem/1141/A"
    assert len(p.tests) == 10
    assert [t.kind for t in p.tests].count("sample") == 3
    samples = {(t.input.strip(), t.output.strip()) for t in p.tests if t.kind == "sample"}
    assert samples == {("42 42", "0"), ("48 72", "-1"), ("120 51840", "7")}
    assert p.tags == ["implementation", "math"]
    assert p.statement.startswith('Polycarp plays "Game 23".')
    assert p.statement.endswith("In the third example, it is impossible to transform 48 to 72.")
    assert p.difficulty_label == "very hard"
    assert p.extra["difficulty_raw"] == "very hard"


@needs_codecontests
def test_codecontests_numeric_difficulty_and_test_order(codecontests):
    p = by_id(codecontests[0])["1003_e_tree_constructing_1049"]
    assert p.title == "Tree Constructing"
    assert (p.contest_id, p.problem_index, p.difficulty_label) == ("1003", "E", "E")
    assert p.extra["difficulty_raw"] == "11"
    assert p.tags == ["constructive algorithms", "graphs"]
    # tests ordered by N numerically: input_1, input_2, ..., input_10, ...
    inputs = (CODECONTESTS / "1003_e_tree_constructing_1049" / "tests")
    assert p.tests[1].input == (inputs / "input_2.txt").read_text()
    assert p.tests[9].input == (inputs / "input_10.txt").read_text()


@needs_codecontests
def test_codecontests_single_folder_and_missing_tags(codecontests):
    problems, errors = run("codecontests-dir", CODECONTESTS / "690_c1_brain_network_easy_6407")
    assert errors == [] and len(problems) == 1
    p = problems[0]
    assert p.problem_index == "C1"
    assert p.raw_hash == by_id(codecontests[0])[p.external_id].raw_hash


@needs_leetcode
def test_leetcode_v031():
    problems, errors = run("leetcodedataset", V031)
    assert errors == []
    assert len(problems) == 228
    assert Counter(p.extra["difficulty_raw"] for p in problems) == {"Medium": 101, "Hard": 79, "Easy": 48}
    assert Counter(p.difficulty_label for p in problems) == {"medium": 101, "hard": 79, "easy": 48}
    for p in problems:
        assert p.platform == "leetcode" and p.io_format == "functional"
        assert p.function_name and p.starter_code and p.tests and p.solutions
        assert p.contest_date is not None
        assert p.url == f"https://leetcode.com/problems/{p.external_id}/"
        assert p.extra["test"].startswith("def check(candidate)")
    assert sum(len(p.tests) for p in problems) / len(problems) > 50
    p = by_id(problems)["shortest-distance-after-road-addition-queries-i"]
    assert p.title == "Shortest Distance After Road Addition Queries I"
    assert p.function_name == "shortestDistanceAfterQueries"
    assert p.contest_date.isoformat() == "2024-08-04"
    assert p.tests[0].input == "n = 7, queries = [[0,5],[1,6],[2,4]]"
    assert p.tests[0].output == "[2, 2, 2]"
    assert p.tags == ["Breadth-First Search", "Graph", "Array"]
    assert p.extra["question_id"] == 3243


@needs_leetcode
def test_leetcode_v020():
    problems, errors = run("leetcodedataset", V020)
    assert errors == []
    assert len(problems) == 1890
    assert Counter(p.difficulty_label for p in problems) == {"medium": 1000, "easy": 515, "hard": 375}
    assert all(p.tests for p in problems)
    p = by_id(problems)["two-sum"]
    assert p.title == "Two Sum"
    assert p.function_name == "twoSum"
    assert len(p.tests) == 3
    assert p.tests[0].input == "nums = [2,7,11,15], target = 9" and p.tests[0].output == "[0,1]"
    assert p.starter_code.startswith("class Solution:\n    def twoSum(")
    assert p.statement.startswith("Given an array of integers nums")
    assert p.difficulty_label == "easy" and p.extra["question_id"] == 1
    assert p.solutions[0].language == "python3" and "def twoSum" in p.solutions[0].code
    assert p.url == "https://leetcode.com/problems/two-sum/"
