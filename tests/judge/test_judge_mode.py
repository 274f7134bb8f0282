"""The judge mode a run keeps (curation.judge.mode): the weakest it saw, and what a page says of it."""
from curation.judge import mode

V1 = {"isolation": "bubblewrap", "resource_limits": "cgroup-v1", "seccomp": True}
V2 = {"isolation": "bubblewrap", "resource_limits": "cgroup-v2", "seccomp": True}
RLIMITS = {"isolation": "bubblewrap", "resource_limits": "rlimits-only", "seccomp": True}
NO_SECCOMP = {"isolation": "bubblewrap", "resource_limits": "cgroup-v2", "seccomp": False}
UNSANDBOXED = {"isolation": "rlimits-only", "resource_limits": "rlimits-only", "seccomp": False}


def test_weakest_takes_the_weakest_field_by_field_and_skips_unknown_entries():
    assert mode.weakest() == {}
    assert mode.weakest({}, None, "x") == {}
    assert mode.weakest(V1, {}) == V1
    assert mode.weakest(V2, V1) == V1
    assert mode.weakest(V1, RLIMITS, V2) == RLIMITS
    # Fields are weakened independently: per-solution limits from one, no seccomp from another.
    assert mode.weakest(V1, NO_SECCOMP) == {"isolation": "bubblewrap", "resource_limits": "cgroup-v1", "seccomp": False}
    assert mode.weakest(V2, UNSANDBOXED) == UNSANDBOXED
    # A value this code does not know ranks below everything it does.
    assert mode.weakest(V1, {**V1, "resource_limits": "cgroup-v9"})["resource_limits"] == "cgroup-v9"


def test_report_mode_reads_a_report():
    class Report:
        isolation, resource_limits, seccomp = "bubblewrap", "cgroup-v1", 1

    assert mode.report_mode(Report()) == V1


def test_describe_flags_only_the_weak_parts():
    strong = mode.describe(V1)
    assert strong["label"] == "bubblewrap · cgroup-v1 · seccomp" and not strong["weak"]
    weak = mode.describe(RLIMITS)
    assert weak["weak"]
    assert [p["text"] for p in weak["parts"] if p["warning"]] == ["rlimits only: memory/CPU limited per process, not per solution"]
    assert [p["text"] for p in mode.describe(NO_SECCOMP)["parts"] if p["warning"]] == ["no seccomp"]
    assert mode.describe(UNSANDBOXED)["parts"][0]["text"] == "not sandboxed: rlimits only"
    # A row from before limits were stored: isolation only, nothing guessed.
    old = mode.describe({"isolation": "bubblewrap", "resource_limits": "", "seccomp": None})
    assert old["label"] == "bubblewrap" and not old["weak"]
    assert mode.describe({})["known"] is False


def test_probe_agrees_with_a_real_judgement():
    """The dashboard's probe says what the judge then does (same machine, same process)."""
    from curation.judge import judge_solution

    report = judge_solution("print(sum(map(int, input().split())))", "python3", [("1 2\n", "3\n")])
    assert report.verdict.value == "AC"
    assert mode.probe() == mode.report_mode(report)
