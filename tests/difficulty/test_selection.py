import json

import pytest

from curation.difficulty.selection import (
    BucketThresholds,
    CutoffPolicy,
    SelectionItem,
    TargetEasySharePolicy,
    preview,
    select,
)


def pool(n_easy=40, n_medium=35, n_hard=25):
    items = []
    for i in range(n_easy):
        items.append(SelectionItem(f"e{i:03d}", 0.80 + 0.2 * (i % 10) / 10, "codecontests" if i % 2 else "leetcode",
                                   "codeforces" if i % 2 else "leetcode"))
    for i in range(n_medium):
        items.append(SelectionItem(f"m{i:03d}", 0.5, "codecontests", "codeforces"))
    for i in range(n_hard):
        items.append(SelectionItem(f"h{i:03d}", 0.05, "leetcode", "leetcode"))
    return items


def test_buckets():
    b = BucketThresholds()
    assert [b.bucket(x) for x in (1.0, 0.8, 0.79, 0.2, 0.19, 0.0, None)] == \
        ["easy", "easy", "medium", "medium", "hard", "hard", "unscored"]
    with pytest.raises(ValueError):
        BucketThresholds(easy_min=0.1, hard_max=0.5)


def test_paper_numbers_40_percent_easy_to_20():
    # 100 problems, 40% easy. Keep all 60 medium/hard; keep e easy with e/(60+e) <= 0.2 -> e = 15.
    summary = preview(pool(), TargetEasySharePolicy(target_easy_share=0.2))
    assert summary["total"] == 100 and summary["kept"] == 75 and summary["dropped"] == 25
    assert summary["kept_fraction"] == pytest.approx(0.75)
    assert summary["easy_share_before"] == pytest.approx(0.40)
    assert summary["easy_share_after"] == pytest.approx(0.20)
    assert summary["by_bucket"]["easy"] == {"kept": 15, "dropped": 25}
    assert summary["by_bucket"]["medium"] == {"kept": 35, "dropped": 0}
    assert summary["by_bucket"]["hard"] == {"kept": 25, "dropped": 0}
    # Dropped: the 24 easy items at pass rates 0.88..0.98 (12 odd ids -> codecontests, 12 even ->
    # leetcode) and, of the four at 0.86, the lowest id e003 (codecontests).
    assert summary["by_source"] == {"codecontests": {"kept": 35 + 20 - 13, "dropped": 13},
                                    "leetcode": {"kept": 25 + 20 - 12, "dropped": 12}}
    assert summary["by_platform"]["codeforces"] == {"kept": 42, "dropped": 13}
    json.dumps(summary)  # plain data


def test_easiest_dropped_first_with_id_ties():
    res = select(pool(), TargetEasySharePolicy(0.2))
    dropped = [d for d in res.decisions if not d.kept]
    kept_easy = [d for d in res.decisions if d.kept and d.bucket == "easy"]
    assert min(d.pass_rate for d in dropped) >= max(d.pass_rate for d in kept_easy)
    # pass rates 0.80..0.98 in steps of 0.02, four easy items each; ties broken by id
    boundary = [d for d in res.decisions if d.bucket == "easy" and d.pass_rate == pytest.approx(0.86)]
    assert [d.kept for d in sorted(boundary, key=lambda d: d.id)] == [False, True, True, True]
    assert res.to_dict()["summary"]["kept"] == 75
    assert select(pool(), TargetEasySharePolicy(0.2)).kept_ids == res.kept_ids


def test_target_already_met_and_zero_target():
    few = pool(n_easy=5)  # 5 / 65 < 0.2
    assert preview(few, TargetEasySharePolicy(0.2))["dropped"] == 0
    assert preview(pool(), TargetEasySharePolicy(0.0))["by_bucket"]["easy"] == {"kept": 0, "dropped": 40}


def test_cutoff_policy_and_unscored():
    items = pool() + [SelectionItem("u1", None, "x", "y")]
    s = preview(items, CutoffPolicy(max_pass_rate=0.5))
    assert s["kept"] == 35 + 25 + 1 and s["by_bucket"]["unscored"] == {"kept": 1, "dropped": 0}
    s = preview(items, CutoffPolicy(max_pass_rate=0.5, keep_unscored=False))
    assert s["by_bucket"]["unscored"] == {"kept": 0, "dropped": 1}
    assert s["policy"]["name"] == "cutoff" and s["thresholds"] == {"easy_min": 0.8, "hard_max": 0.2}


def test_custom_thresholds_and_duplicate_ids():
    s = preview(pool(), TargetEasySharePolicy(0.2), BucketThresholds(easy_min=0.9, hard_max=0.1))
    assert s["by_bucket"]["easy"]["kept"] + s["by_bucket"]["easy"]["dropped"] == 20
    with pytest.raises(ValueError):
        select([SelectionItem("a", 0.1), SelectionItem("a", 0.2)], CutoffPolicy(0.5))
