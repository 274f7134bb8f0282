import datetime as dt
import random

from curation.process.decontam import (
    DecontamConfig,
    DecontamItem,
    find_contamination,
    in_date_window,
)


def _bench(rows):
    return [DecontamItem(id=r["task_id"], statement=r["problem_description"], slug=r["task_id"],
                         platform="leetcode", question_id=str(r["question_id"])) for r in rows]


def _v020(rows):
    return [DecontamItem(id=r["task_id"], statement=r["meta"]["question_title"], slug=r["task_id"],
                         platform="leetcode", question_id=str(r["meta"]["question_id"])) for r in rows]


def _edit(text: str, fraction: float, seed: int) -> str:
    """Replace a fraction of the words with other words (a light re-wording)."""
    rng = random.Random(seed)
    words = text.split()
    for i in rng.sample(range(len(words)), int(len(words) * fraction)):
        words[i] = rng.choice(["value", "item", "entry", "number", "thing", "element"])
    return " ".join(words)


def test_edited_copy_of_benchmark_problem_is_flagged(lc_v031, lc_v020):
    bench = _bench(lc_v031)
    target = next(r for r in lc_v031 if r["task_id"] == "shortest-distance-after-road-addition-queries-i")
    copy = DecontamItem(id="scraped-123", statement=_edit(target["problem_description"], 0.05, 1),
                        title="Road additions", slug="road-additions", platform="othersite")
    verbatim = DecontamItem(id="mirror-9", statement=target["problem_description"].upper().replace(",", " ,"),
                            platform="othersite")
    training = _v020(lc_v020[:300]) + [copy, verbatim]
    matches = find_contamination(bench, training)
    by = {(m.train_id, m.bench_id, m.method): m.score for m in matches}
    bench_id = target["task_id"]
    assert by[("scraped-123", bench_id, "near_duplicate")] >= 0.5
    assert by[("scraped-123", bench_id, "ngram_overlap")] >= 0.3
    assert by[("mirror-9", bench_id, "exact_hash")] == 1.0
    # v0.3.1 also holds the "-ii" (harder) version of the same story: flagged too (no guard in
    # decontamination), with a lower score.
    assert by[("scraped-123", bench_id + "i", "near_duplicate")] < by[("scraped-123", bench_id, "near_duplicate")]
    assert {m.train_id for m in matches} == {"scraped-123", "mirror-9"}


def test_v031_and_v020_do_not_overlap(lc_v031, lc_v020):
    """Checked on the real files: no v0.3.1 (test, 2024-08..2025-03) problem appears in v0.2.0
    (train) — no shared task_id/question_id, no exact or near duplicate, no 13-gram overlap ≥ 0.3.
    The highest 13-gram overlap is 0.18: tree-problem boilerplate ("You are given a tree rooted
    at node 0 ...") between different problems."""
    assert not {r["task_id"] for r in lc_v031} & {r["task_id"] for r in lc_v020}
    assert find_contamination(_bench(lc_v031), _v020(lc_v020)) == []
    low = find_contamination(_bench(lc_v031), _v020(lc_v020), DecontamConfig(ngram_min_fraction=0.1))
    assert {m.method for m in low} == {"ngram_overlap"} and max(m.score for m in low) < 0.2


def test_ids_titles_slugs():
    bench = [DecontamItem(id="cf-1141A", title="Game 23", platform="codeforces", contest_id="1141", problem_index="A",
                          statement="Polycarp plays a game with numbers."),
             DecontamItem(id="lc-1", title="Two Sum", slug="two-sum", platform="LeetCode", question_id="1")]
    train = [DecontamItem(id="t1", platform="codeforces", contest_id="1141", problem_index="a", statement="zzz"),
             DecontamItem(id="t2", title="two  sum", statement="different text entirely"),
             DecontamItem(id="t3", slug="Two Sum", platform="leetcode", question_id="1"),
             DecontamItem(id="t4", platform="atcoder", contest_id="1141", problem_index="A")]
    got = {(m.train_id, m.bench_id, m.method, m.score) for m in find_contamination(bench, train)}
    assert got == {("t1", "cf-1141A", "same_id", 1.0), ("t2", "lc-1", "title", 1.0),
                   ("t3", "lc-1", "slug", 1.0), ("t3", "lc-1", "same_id", 1.0)}


def test_in_date_window():
    assert in_date_window(dt.date(2024, 8, 4), "2024-08-01", "2025-03-31")
    assert in_date_window("2024-08-01", dt.date(2024, 8, 1), None)
    assert not in_date_window("2024-07-31", "2024-08-01", None)
    assert in_date_window(dt.datetime(2025, 3, 31, 23, 59), None, dt.date(2025, 3, 31))
    assert not in_date_window(None, None, None)
