"""Decontamination: flag training problems that match a benchmark problem.

Public API
----------
- ``DecontamItem`` (id, title, slug, platform, contest_id, problem_index, question_id, statement)
- ``find_contamination(benchmark, training, config=None) -> list[Match]``
- ``Match(train_id, bench_id, method, score)``; methods, strongest first:
  ``exact_hash`` (normalised statement identical, score 1), ``same_id`` (same platform and
  contest + index, or same platform and question id, score 1), ``near_duplicate`` (MinHash LSH,
  score = exact 5-gram Jaccard), ``ngram_overlap`` (score = fraction of the benchmark
  statement's distinct word 13-grams that also occur in the training statement),
  ``title`` / ``slug`` (normalised equality, score 1).
  One Match per (train, bench, method); a pair can match by several methods.
- ``in_date_window(date, start, end) -> bool``

Unlike dedup, no guard is applied: an E1 that matches a benchmark's E2 is contamination risk
worth a human look. Title matches are reported as their own method because titles repeat across
unrelated problems ("Journey"): the caller decides whether ``title`` alone excludes an item.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .minhash import (
    MinHasher,
    NearDupConfig,
    content_hash,
    normalize_for_hash,
    tokenize,
    find_near_duplicates,
)

METHOD_EXACT = "exact_hash"
METHOD_SAME_ID = "same_id"
METHOD_NEAR = "near_duplicate"
METHOD_NGRAM = "ngram_overlap"
METHOD_TITLE = "title"
METHOD_SLUG = "slug"


@dataclass
class DecontamItem:
    id: str
    statement: str = ""
    title: str = ""
    slug: str = ""
    platform: str = ""
    contest_id: str = ""
    problem_index: str = ""
    question_id: str = ""


@dataclass(frozen=True)
class Match:
    train_id: str
    bench_id: str
    method: str
    score: float


@dataclass
class DecontamConfig:
    near: NearDupConfig | None = None  # default NearDupConfig(threshold=0.5)
    ngram: int = 13
    # Share of the benchmark item's distinct 13-grams found in the training item needed to flag
    # it. Shared boilerplate between different LeetCode tree problems ("you are given a tree
    # rooted at node 0 consisting of n nodes numbered from 0 to n - 1 ...") reaches 0.18 on the
    # real data (v0.3.1 × v0.2.0); a copy with 5 % of its words edited keeps ~0.95^13 ≈ 0.51.
    ngram_min_fraction: float = 0.3
    match_titles: bool = True
    min_title_chars: int = 4  # "A", "Game" alone says little


def _norm_key(text: str) -> str:
    return normalize_for_hash(text).replace(" ", "")


def normalize_slug(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"[^0-9a-z]+", "-", text).strip("-")


def _ngram_hashes(hasher: MinHasher, tokens: list[str], n: int) -> np.ndarray:
    if len(tokens) < n:
        return np.zeros(0, dtype=np.uint64)
    th = np.fromiter(map(hasher._tokens.__getitem__, tokens), dtype=np.uint64, count=len(tokens))
    m = len(th) - n + 1
    acc = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            acc = acc * np.uint64(0x9E3779B97F4A7C15) + th[j: j + m]
    return np.unique(acc)


def find_contamination(benchmark: Sequence[DecontamItem], training: Sequence[DecontamItem],
                       config: DecontamConfig | None = None) -> list[Match]:
    cfg = config or DecontamConfig()
    matches: dict[tuple[str, str, str], float] = {}

    def add(t: DecontamItem, b: DecontamItem, method: str, score: float) -> None:
        key = (t.id, b.id, method)
        if score > matches.get(key, -1.0):
            matches[key] = float(score)

    # 1. exact normalised content
    bench_by_hash: dict[str, list[DecontamItem]] = {}
    for b in benchmark:
        if normalize_for_hash(b.statement):
            bench_by_hash.setdefault(content_hash(b.statement), []).append(b)
    for t in training:
        if normalize_for_hash(t.statement):
            for b in bench_by_hash.get(content_hash(t.statement), []):
                add(t, b, METHOD_EXACT, 1.0)

    # 2. same platform + contest/index or question id
    by_contest: dict[tuple[str, str, str], list[DecontamItem]] = {}
    by_qid: dict[tuple[str, str], list[DecontamItem]] = {}
    for b in benchmark:
        plat = (b.platform or "").lower()
        if b.contest_id and b.problem_index:
            by_contest.setdefault((plat, str(b.contest_id).lower(), str(b.problem_index).lower()), []).append(b)
        if b.question_id not in (None, ""):
            by_qid.setdefault((plat, str(b.question_id).lower()), []).append(b)
    for t in training:
        plat = (t.platform or "").lower()
        if t.contest_id and t.problem_index:
            for b in by_contest.get((plat, str(t.contest_id).lower(), str(t.problem_index).lower()), []):
                add(t, b, METHOD_SAME_ID, 1.0)
        if t.question_id not in (None, ""):
            for b in by_qid.get((plat, str(t.question_id).lower()), []):
                add(t, b, METHOD_SAME_ID, 1.0)

    # 3. title / slug equality
    if cfg.match_titles:
        by_title: dict[str, list[DecontamItem]] = {}
        by_slug: dict[str, list[DecontamItem]] = {}
        for b in benchmark:
            tk = _norm_key(b.title)
            if len(tk) >= cfg.min_title_chars:
                by_title.setdefault(tk, []).append(b)
            sk = normalize_slug(b.slug)
            if len(sk) >= cfg.min_title_chars:
                by_slug.setdefault(sk, []).append(b)
        for t in training:
            for b in by_title.get(_norm_key(t.title), []):
                add(t, b, METHOD_TITLE, 1.0)
            for b in by_slug.get(normalize_slug(t.slug), []):
                add(t, b, METHOD_SLUG, 1.0)

    # 4. near duplicates over bodies (benchmark × training only)
    near_cfg = cfg.near or NearDupConfig()
    texts = [b.statement or "" for b in benchmark] + [t.statement or "" for t in training]
    nb = len(benchmark)
    is_bench = [True] * nb + [False] * len(training)
    if texts:
        res = find_near_duplicates(texts, near_cfg, cross=is_bench)
        for p in res.pairs:
            bi, ti = (p.i, p.j) if p.i < nb else (p.j, p.i)
            add(training[ti - nb], benchmark[bi], METHOD_NEAR, round(p.score, 4))

    # 5. long n-gram overlap
    hasher = MinHasher(num_perm=1, shingle_size=1, seed=near_cfg.seed)
    bench_grams = [_ngram_hashes(hasher, tokenize(b.statement), cfg.ngram) for b in benchmark]
    if any(len(g) for g in bench_grams):
        all_grams = np.concatenate(bench_grams)
        owner = np.concatenate([np.full(len(g), k, dtype=np.int64) for k, g in enumerate(bench_grams)])
        order = np.argsort(all_grams, kind="stable")
        all_grams, owner = all_grams[order], owner[order]
        sizes = np.array([len(g) for g in bench_grams], dtype=np.int64)
        for t in training:
            tg = _ngram_hashes(hasher, tokenize(t.statement), cfg.ngram)
            if not len(tg):
                continue
            lo = np.searchsorted(all_grams, tg, side="left")
            hi = np.searchsorted(all_grams, tg, side="right")
            hit = hi > lo
            if not hit.any():
                continue
            owners = np.concatenate([owner[a:b] for a, b in zip(lo[hit], hi[hit])])
            bench_ids, counts = np.unique(owners, return_counts=True)
            for k, c in zip(bench_ids.tolist(), counts.tolist()):
                frac = c / sizes[k]
                if frac >= cfg.ngram_min_fraction:
                    add(t, benchmark[k], METHOD_NGRAM, round(frac, 4))

    return [Match(t, b, m, s) for (t, b, m), s in sorted(matches.items())]


def in_date_window(date: dt.date | dt.datetime | str | None, start: dt.date | str | None = None,
                   end: dt.date | str | None = None) -> bool:
    """``start <= date <= end`` (inclusive; an open bound is None). Dates may be ISO strings;
    datetimes compare by their date. An unknown date is never inside a window."""

    def as_date(v):
        if v is None or v == "":
            return None
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, dt.date):
            return v
        return dt.date.fromisoformat(str(v)[:10])

    d = as_date(date)
    if d is None:
        return False
    s, e = as_date(start), as_date(end)
    return (s is None or s <= d) and (e is None or d <= e)
