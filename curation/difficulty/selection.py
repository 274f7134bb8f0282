"""Selection of problems by calibrated pass rate: buckets, policies and a preview (plain data)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Sequence

EASY, MEDIUM, HARD, UNSCORED = "easy", "medium", "hard", "unscored"
BUCKETS = (EASY, MEDIUM, HARD, UNSCORED)


@dataclass(frozen=True)
class BucketThresholds:
    """easy: pass rate >= easy_min; medium: hard_max <= rate < easy_min; hard: rate < hard_max."""

    easy_min: float = 0.8
    hard_max: float = 0.2

    def __post_init__(self) -> None:
        if not 0.0 <= self.hard_max <= self.easy_min <= 1.0:
            raise ValueError("need 0 <= hard_max <= easy_min <= 1")

    def bucket(self, pass_rate: float | None) -> str:
        if pass_rate is None or (isinstance(pass_rate, float) and math.isnan(pass_rate)):
            return UNSCORED
        if pass_rate >= self.easy_min:
            return EASY
        if pass_rate >= self.hard_max:
            return MEDIUM
        return HARD


@dataclass(frozen=True)
class SelectionItem:
    id: str
    pass_rate: float | None  # calibrated (expected) pass rate; None = no usable prediction
    source: str = ""
    platform: str = ""
    weighted_score: float | None = None


@dataclass(frozen=True)
class CutoffPolicy:
    """Keep problems whose pass rate is <= max_pass_rate."""

    max_pass_rate: float
    keep_unscored: bool = True
    name: str = "cutoff"


@dataclass(frozen=True)
class TargetEasySharePolicy:
    """Keep every hard and medium problem; drop easy ones, easiest first (ties by id), until the
    easy share of the kept scored problems is <= target_easy_share."""

    target_easy_share: float = 0.2
    keep_unscored: bool = True
    name: str = "target_easy_share"

    def __post_init__(self) -> None:
        if not 0.0 <= self.target_easy_share < 1.0:
            raise ValueError("target_easy_share must be in [0, 1)")





@dataclass
class Decision:
    id: str
    bucket: str
    kept: bool
    reason: str
    pass_rate: float | None
    source: str = ""
    platform: str = ""


@dataclass
class SelectionResult:
    policy: dict[str, Any]
    thresholds: dict[str, float]
    decisions: list[Decision] = field(default_factory=list)

    @property
    def kept_ids(self) -> list[str]:
        return [d.id for d in self.decisions if d.kept]

    @property
    def dropped_ids(self) -> list[str]:
        return [d.id for d in self.decisions if not d.kept]

    def summary(self) -> dict[str, Any]:
        return summarise(self.decisions, self.policy, self.thresholds)

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "thresholds": self.thresholds,
                "decisions": [asdict(d) for d in self.decisions], "summary": self.summary()}


def _policy_dict(policy: Any) -> dict[str, Any]:
    d = asdict(policy)
    d["name"] = policy.name
    return d


def select(items: Sequence[SelectionItem], policy: CutoffPolicy | TargetEasySharePolicy,
           thresholds: BucketThresholds = BucketThresholds()) -> SelectionResult:
    """Decide keep/drop for every item (deterministic; output in input order)."""
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        raise ValueError("item ids must be unique")
    buckets = {it.id: thresholds.bucket(it.pass_rate) for it in items}
    kept: dict[str, tuple[bool, str]] = {}
    if isinstance(policy, CutoffPolicy):
        for it in items:
            b = buckets[it.id]
            if b == UNSCORED:
                kept[it.id] = (policy.keep_unscored, "unscored")
            elif it.pass_rate <= policy.max_pass_rate:  # type: ignore[operator]
                kept[it.id] = (True, f"pass rate <= {policy.max_pass_rate:g}")
            else:
                kept[it.id] = (False, f"pass rate > {policy.max_pass_rate:g}")
    elif isinstance(policy, TargetEasySharePolicy):
        t = policy.target_easy_share
        non_easy = sum(1 for b in buckets.values() if b in (MEDIUM, HARD))
        easy = sorted((it for it in items if buckets[it.id] == EASY),
                      key=lambda it: (-float(it.pass_rate), it.id))  # type: ignore[arg-type]
        # Largest e with e / (non_easy + e) <= t  <=>  e <= t * non_easy / (1 - t).
        allowed = min(len(easy), math.floor(t * non_easy / (1.0 - t) + 1e-9))
        n_drop = len(easy) - allowed
        dropped = {it.id for it in easy[:n_drop]}
        for it in items:
            b = buckets[it.id]
            if b == UNSCORED:
                kept[it.id] = (policy.keep_unscored, "unscored")
            elif b != EASY:
                kept[it.id] = (True, f"{b}: always kept")
            elif it.id in dropped:
                kept[it.id] = (False, f"easy: dropped to reach easy share <= {t:g}")
            else:
                kept[it.id] = (True, f"easy: within easy share {t:g}")
    else:
        raise TypeError(f"unknown policy {policy!r}")
    decisions = [
        Decision(it.id, buckets[it.id], kept[it.id][0], kept[it.id][1], it.pass_rate, it.source, it.platform)
        for it in items
    ]
    return SelectionResult(_policy_dict(policy), asdict(thresholds), decisions)


def _count(decisions: Iterable[Decision], attr: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for d in decisions:
        key = getattr(d, attr) or ""
        c = out.setdefault(key, {"kept": 0, "dropped": 0})
        c["kept" if d.kept else "dropped"] += 1
    return dict(sorted(out.items()))


def summarise(decisions: Sequence[Decision], policy: dict[str, Any] | None = None,
              thresholds: dict[str, float] | None = None) -> dict[str, Any]:
    total = len(decisions)
    kept = sum(1 for d in decisions if d.kept)
    scored = [d for d in decisions if d.bucket != UNSCORED]
    scored_kept = [d for d in scored if d.kept]
    easy_before = sum(1 for d in scored if d.bucket == EASY)
    easy_after = sum(1 for d in scored_kept if d.bucket == EASY)
    by_bucket = {b: {"kept": 0, "dropped": 0} for b in BUCKETS}
    for d in decisions:
        by_bucket[d.bucket]["kept" if d.kept else "dropped"] += 1
    return {
        "policy": policy or {},
        "thresholds": thresholds or {},
        "total": total,
        "kept": kept,
        "dropped": total - kept,
        "kept_fraction": kept / total if total else 0.0,
        "easy_share_before": easy_before / len(scored) if scored else 0.0,
        "easy_share_after": easy_after / len(scored_kept) if scored_kept else 0.0,
        "by_bucket": by_bucket,
        "by_source": _count(decisions, "source"),
        "by_platform": _count(decisions, "platform"),
    }


def preview(items: Sequence[SelectionItem], policy: CutoffPolicy | TargetEasySharePolicy,
            thresholds: BucketThresholds = BucketThresholds()) -> dict[str, Any]:
    """Counts kept/dropped overall, by bucket, source and platform, without changing anything."""
    return select(items, policy, thresholds).summary()
