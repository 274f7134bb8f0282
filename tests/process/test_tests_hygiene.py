from curation.collect.records import CanonicalTest
from curation.process.tests_hygiene import (
    check_tests,
    choose_training_tests,
    input_shape,
    normalize_test_text,
)

from .conftest import read_tests


def test_duplicates_conflicts_empty_oversized():
    tests = [
        ("1 2\n", "3\n", "sample"),
        ("1 2  \r\n", "3", "hidden"),  # duplicate of the sample after trailing whitespace
        ("1 2", "4", "hidden"),  # same input, different output
        ("", "", "hidden"),
        ("9" * 200, "1", "generated"),
        ("5 5", "10", "hidden"),
        ("5 5", "10", "hidden"),
    ]
    r = check_tests(tests, max_bytes=100)
    assert r.duplicate_of == {1: 0, 6: 5}
    assert r.conflict_groups == [[0, 2]]
    assert r.flags[3] == ["empty"] and r.flags[4] == ["oversized"]
    assert sorted(r.problem_flags) == ["conflicting_outputs", "duplicate", "empty", "oversized"]
    assert r.kept == [0, 2, 5]
    assert normalize_test_text("a \r\nb\t\n\n") == "a\nb"


def test_sample_wins_over_earlier_hidden_copy():
    r = check_tests([CanonicalTest("7", "1", "hidden"), CanonicalTest("7", "1", "sample")])
    assert r.duplicate_of == {0: 1}


def test_choose_training_tests_deterministic_and_capped():
    tests = [{"input": "3\n1 2 3", "output": "6", "kind": "sample"}]
    tests += [{"input": f"{n}\n" + " ".join(["7"] * n), "output": str(7 * n), "kind": "hidden"} for n in range(1, 80)]
    tests += [{"input": "abc", "output": "x", "kind": "generated"}, {"input": "", "output": "", "kind": "hidden"}]
    sel = choose_training_tests(tests, cap=12)
    again = choose_training_tests(tests, cap=12)
    assert (again.chosen, again.reasons) == (sel.chosen, sel.reasons)
    assert len(sel.chosen) == 12 and 0 in sel.chosen and sel.reasons[0] == "sample"
    reasons = [sel.reasons[i] for i in sel.chosen]
    assert reasons.count("largest") == 2  # a quarter of the 11 left after the sample
    assert sel.reasons[79] == "largest" and sel.reasons[78] == "largest"  # the two biggest inputs
    assert sel.reasons[80] == "distinct_shape"  # the only non-numeric input
    assert sel.reasons[81] == "empty"
    assert set(sel.reasons) == set(range(len(tests)))  # every test gets a reason
    assert all(sel.reasons[i] == "over_cap" for i in range(len(tests)) if i not in sel.chosen and i != 81)
    assert input_shape("3\n1 2 3") == (1, 1, ("i",))


def test_choose_on_real_problem(cc_root, cc_problems):
    from curation.process.samples import extract_samples

    pid = "1141_a_game_23_2618"
    samples = set(extract_samples(cc_problems[pid]["description"]))
    tests = [(i, o, "sample" if (i, o) in samples else "hidden") for i, o in read_tests(cc_root / pid)]
    assert sum(t[2] == "sample" for t in tests) == 3
    sel = choose_training_tests(tests, cap=5)
    assert len(sel.chosen) == 5
    assert all(sel.reasons[i] == "sample" for i, t in enumerate(tests) if t[2] == "sample")
    biggest = max((i for i, t in enumerate(tests) if t[2] == "hidden"), key=lambda i: (len(tests[i][0]) + len(tests[i][1]), -i))
    assert sel.reasons[biggest] == "largest"
    # Samples are kept even when they alone exceed the cap.
    assert len(choose_training_tests(tests, cap=2).chosen) == 3
