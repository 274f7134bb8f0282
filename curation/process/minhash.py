"""MinHash LSH over word shingles, numpy-vectorised: the similarity engine under duplicate
detection (`dedup.py`) and decontamination (`decontam.py`). Pure Python + numpy.

Public API
----------
- ``normalize_for_hash(text) -> str``, ``content_hash(text) -> str``: exact-duplicate key
  (NFKC, lowercase, punctuation → space, whitespace collapsed; digits kept).
- ``tokenize(text) -> list[str]``: the words the shingles are made of (same normalisation).
- ``MinHasher(num_perm, shingle_size, seed)``: ``.shingles(texts)``, ``.signatures(texts)``.
- ``lsh_candidate_pairs(signatures, bands, rows, valid=None) -> ndarray[(m, 2)]``
- ``find_near_duplicates(texts, config=None) -> NearDupResult`` (pairs with estimated and exact
  Jaccard, over the whole list).
- ``exact_duplicate_groups(texts) -> list[list[int]]``
- ``optimal_bands(threshold, num_perm, fp_weight, fn_weight) -> (bands, rows)``.

How the MinHash is computed (and why it is fast)
------------------------------------------------
Every distinct word is hashed once (blake2b, 64 bit, cached). A word 5-gram shingle's hash is a
polynomial combination of its five word hashes, computed for all positions of a batch of
documents at once with numpy uint64 arithmetic, then mixed (splitmix64 finaliser) and cut to 32
bits (``x``). The ``num_perm`` permutations are ``h_i(x) = (a_i * x + b_i) mod p`` with
``p = 2**61 - 1`` and ``a_i, b_i`` uniform in ``[0, p)``, evaluated as one
``(shingles × num_perm)`` matrix per chunk of documents, and ``np.minimum.reduceat`` takes the
per-document minimum. numpy has no 128-bit product, so ``a*x`` is split as
``a_hi*x*2**32 + a_lo*x`` and reduced with the Mersenne identity ``2**61 ≡ 1`` (shifts, masks and
adds; exact, checked against Python integers in the tests). Each ``h_i`` is a bijection of
``[0, p)``. (A shortcut with small ``a < 2**31`` avoids the split but is *not* a good family:
``a*x`` then wraps around ``p`` only a few times, the permutations are nearly monotone in ``x``
and strongly correlated, and recall dropped to 0.88 in the benchmark.) ``family=
"multiply_shift"`` (``((a*x + b) mod 2**64) >> 32``, Dietzfelbinger's multiply-add-shift) is
about 1.8× faster with the same quality on the benchmark. datasketch instead calls
``MinHash.update`` per shingle (sha1 + a 128-wide numpy op per token); the vectorised form
amortises the Python overhead over thousands of shingles.

Defaults, and why
-----------------
- **Word 5-gram shingles** — as DataTrove's MinHash dedup (``n_grams=5``). Words, not characters:
  statements are short and character shingles make every "the first line contains n integers"
  boilerplate look alike.
- **112 permutations** — DataTrove's budget (14 buckets × 8 hashes = 112); datasketch defaults to
  128. The standard error of the Jaccard estimate at J = 0.5 is sqrt(J(1-J)/112) ≈ 0.047, and we
  verify candidates with the exact Jaccard anyway, so more permutations buy little.
- **threshold = 0.5** Jaccard over 5-gram shingles of the statement body — datasketch's
  ``MinHashLSH`` default. DataTrove's 14 × 8 banding puts the S-curve's midpoint at
  (1/14)^(1/8) ≈ 0.72: it targets web pages, where only near-verbatim copies should merge.
  Problem statements are short (80–300 words) and a re-worded copy loses 5-grams fast: editing
  10 % of the words at random leaves only ~0.9^5 ≈ 59 % of the shingles (J ≈ 0.42), so a 0.7+
  threshold would miss copies that differ in a variable name per sentence. Different problems
  practically never reach J = 0.5 on 5-grams; the exceptions (Div. 1/Div. 2 mirrors, E1/E2 easy
  and hard versions) are handled by the guard below, not by the threshold.
- **bands × rows = 37 × 3 (111 of the 112 permutations)** — datasketch's own optimisation
  (``_optimal_param``: minimise the weighted areas of false positives and false negatives under
  the S-curve) gives (22, 5) with weights 0.5/0.5 and (28, 4) with 0.1/0.9 at t = 0.5. We weight
  false negatives even more: every candidate is verified with the *exact* Jaccard of its shingle
  sets, so a false-positive candidate costs one set intersection and cannot produce a wrong
  merge, while a false negative is lost for good. With 37 × 3 the probability that a pair at
  J = 0.5 becomes a candidate is 1 - (1 - 0.5^3)^37 ≈ 0.993 (at J = 0.4: 0.91; at J = 0.2: 0.26),
  versus 0.84 with 28 × 4 and 0.50 with 22 × 5.
- ``verify="exact"`` (default) accepts a candidate when the exact shingle Jaccard ≥ threshold;
  ``verify="estimate"`` uses the MinHash estimate (no shingle sets kept).
"""
from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

MERSENNE_61 = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64(0xFFFFFFFF)

DEFAULT_THRESHOLD = 0.5
DEFAULT_NUM_PERM = 112
DEFAULT_BANDS = 37
DEFAULT_ROWS = 3
DEFAULT_SHINGLE = 5

# ---------------------------------------------------------------------------- normalisation

_WORD = re.compile(r"[^\W_]+")  # runs of letters/digits of any script; punctuation, ≤, —, $ separate


def tokenize(text: str) -> list[str]:
    """Lowercased words after NFKC (which also turns ``²`` into ``2`` and full-width forms to ASCII)."""
    if not text:
        return []
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _WORD.findall(text.lower())


def normalize_for_hash(text: str) -> str:
    """NFKC, lowercase, every run of non-alphanumerics (punctuation, markup, ``$``) → one space."""
    return " ".join(tokenize(text))


def content_hash(text: str) -> str:
    return hashlib.blake2b(normalize_for_hash(text).encode("utf-8"), digest_size=16).hexdigest()


def exact_duplicate_groups(texts: Sequence[str]) -> list[list[int]]:
    """Groups (size ≥ 2) of indices whose normalised content is identical; empty texts ignored."""
    groups: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        norm = normalize_for_hash(t)
        if norm:
            groups.setdefault(hashlib.blake2b(norm.encode(), digest_size=16).hexdigest(), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


# ---------------------------------------------------------------------------- hashing


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised (uint64, wraps on purpose)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return x


class _TokenHashes(dict):
    """word → 64-bit hash, computed once per distinct word."""

    def __init__(self, seed: int):
        super().__init__()
        self._key = seed.to_bytes(8, "little", signed=False)

    def __missing__(self, token: str) -> int:
        value = int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8, key=self._key).digest(),
                               "little")
        self[token] = value
        return value


@dataclass
class ShingleBatch:
    """Shingle hashes of n documents: ``values[offsets[i]:offsets[i+1]]`` belong to document i."""

    values: np.ndarray  # uint32
    offsets: np.ndarray  # int64, n + 1

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def doc(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i]: self.offsets[i + 1]]


class MinHasher:
    def __init__(self, num_perm: int = DEFAULT_NUM_PERM, shingle_size: int = DEFAULT_SHINGLE, seed: int = 1,
                 chunk_shingles: int = 8192, family: str = "mersenne"):
        if num_perm < 1 or shingle_size < 1:
            raise ValueError("num_perm and shingle_size must be positive")
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self.seed = seed
        self.chunk_shingles = chunk_shingles
        if family not in ("mersenne", "multiply_shift"):
            raise ValueError("family must be 'mersenne' or 'multiply_shift'")
        self.family = family
        rng = np.random.default_rng(seed)
        if family == "mersenne":
            self.a = rng.integers(1, (1 << 61) - 1, size=num_perm, dtype=np.uint64)
            self.b = rng.integers(0, (1 << 61) - 1, size=num_perm, dtype=np.uint64)
            self._a_hi = self.a >> np.uint64(32)
            self._a_lo = self.a & _MAX32
        else:
            self.a = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
            self.b = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64)
        self._coef = rng.integers(1, 1 << 63, size=shingle_size, dtype=np.uint64) | np.uint64(1)
        self._tokens = _TokenHashes(seed)

    # -- shingles
    def shingles(self, texts: Iterable[str] | None = None, token_lists: Sequence[Sequence[str]] | None = None,
                 batch_docs: int = 2000) -> ShingleBatch:
        """Word k-gram shingle hashes for every text (a text shorter than k words: one shingle).

        Texts are tokenised and hashed ``batch_docs`` at a time, so the Python word lists of only
        one batch are alive at once; shingle values are stored as uint32.
        """
        if token_lists is None:
            token_lists_iter: Iterable[Sequence[str]] = (tokenize(t) for t in texts or [])
        else:
            token_lists_iter = iter(token_lists)
        parts: list[ShingleBatch] = []
        while True:
            batch = list(itertools.islice(token_lists_iter, batch_docs))
            if not batch:
                break
            parts.append(self._shingle_batch(batch))
        if not parts:
            return ShingleBatch(values=np.zeros(0, dtype=np.uint32), offsets=np.zeros(1, dtype=np.int64))
        if len(parts) == 1:
            return parts[0]
        values = np.concatenate([p.values for p in parts])
        counts = np.concatenate([p.counts() for p in parts])
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return ShingleBatch(values=values, offsets=offsets)

    def _shingle_batch(self, token_lists: Sequence[Sequence[str]]) -> ShingleBatch:
        k = self.shingle_size
        lens = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
        n_docs = len(lens)
        flat_tokens = [tok for toks in token_lists for tok in toks]
        th = np.fromiter(map(self._tokens.__getitem__, flat_tokens), dtype=np.uint64, count=len(flat_tokens))
        starts = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(lens, out=starts[1:])
        total = len(th)
        if total >= k:
            m = total - k + 1
            with np.errstate(over="ignore"):
                acc = th[:m] * self._coef[0]
                for j in range(1, k):
                    acc += th[j: j + m] * self._coef[j]
            pos = np.arange(m, dtype=np.int64)
            doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), lens)[:m]
            valid = pos + k <= starts[1:][doc_of]
            shingle_vals = acc[valid]
        else:
            shingle_vals = np.zeros(0, dtype=np.uint64)
        counts = np.maximum(lens - k + 1, 0)
        short = np.nonzero((lens > 0) & (lens < k))[0]
        if len(short):  # one shingle per short document, from the words it has
            extra = np.zeros(len(short), dtype=np.uint64)
            with np.errstate(over="ignore"):
                for n, d in enumerate(short):
                    h = np.uint64(0)
                    for j, v in enumerate(th[starts[d]: starts[d + 1]]):
                        h = h + v * self._coef[j]
                    extra[n] = h
            counts[short] = 1
            # Insert the short documents' shingles at their place.
            offsets = np.zeros(n_docs + 1, dtype=np.int64)
            np.cumsum(counts, out=offsets[1:])
            out = np.empty(offsets[-1], dtype=np.uint64)
            is_short = np.zeros(n_docs, dtype=bool)
            is_short[short] = True
            long_pos = np.repeat(~is_short, counts)
            out[long_pos] = shingle_vals
            out[~long_pos] = extra
            shingle_vals = out
        else:
            offsets = np.zeros(n_docs + 1, dtype=np.int64)
            np.cumsum(counts, out=offsets[1:])
        values = (_splitmix64(shingle_vals) >> np.uint64(32)).astype(np.uint32)
        return ShingleBatch(values=values, offsets=offsets)

    # -- signatures
    def signatures_from_shingles(self, batch: ShingleBatch) -> np.ndarray:
        """``(n_docs, num_perm)`` uint32 MinHash signatures; documents without shingles get all
        ``0xFFFFFFFF`` (callers exclude them from LSH)."""
        n = len(batch)
        sig = np.full((n, self.num_perm), 0xFFFFFFFF, dtype=np.uint32)
        counts = batch.counts()
        nonempty = np.nonzero(counts > 0)[0]
        if len(nonempty) == 0:
            return sig
        cum = batch.offsets
        a, b = self.a[None, :], self.b[None, :]
        chunk = max(self.chunk_shingles, 1)
        buf = np.empty((chunk, self.num_perm), dtype=np.uint64)
        tmp = np.empty_like(buf)
        i = 0
        while i < len(nonempty):
            # Documents nonempty[i:j] whose shingles fit in one chunk (at least one document).
            first = nonempty[i]
            limit = cum[first] + chunk
            j = int(np.searchsorted(cum[nonempty[i:] + 1], limit, side="right")) + i
            j = max(j, i + 1)
            docs = nonempty[i:j]
            lo, hi = cum[docs[0]], cum[docs[-1] + 1]
            x = batch.values[lo:hi].astype(np.uint64)
            m = hi - lo
            if m > buf.shape[0]:
                buf = np.empty((m, self.num_perm), dtype=np.uint64)
                tmp = np.empty_like(buf)
            B, T = buf[:m], tmp[:m]
            self._permute(x, B, T)
            local = cum[docs] - lo
            mins = np.minimum.reduceat(B, local, axis=0)
            sig[docs] = (mins & _MAX32).astype(np.uint32)
            i = j
        return sig

    def _permute(self, x: np.ndarray, B: np.ndarray, T: np.ndarray) -> None:
        """B[s, i] = h_i(x[s]) for every shingle s and permutation i (in place)."""
        if self.family == "multiply_shift":
            # ((a*x + b) mod 2**64) >> 32 with random 64-bit a (odd), b: multiply-add-shift.
            with np.errstate(over="ignore"):
                np.multiply(x[:, None], self.a[None, :], out=B)
                np.add(B, self.b[None, :], out=B)
            np.right_shift(B, np.uint64(32), out=B)
            return
        # (a*x + b) mod p, p = 2**61 - 1, a < p split as a_hi * 2**32 + a_lo so nothing overflows:
        # a_hi*x < 2**61, (a_hi*x) * 2**32 ≡ ((t mod 2**29) << 32) + (t >> 29)  (2**61 ≡ 1 mod p).
        P = MERSENNE_61
        np.multiply(x[:, None], self._a_hi[None, :], out=T)
        np.bitwise_and(T, np.uint64((1 << 29) - 1), out=B)
        np.left_shift(B, np.uint64(32), out=B)
        np.right_shift(T, np.uint64(29), out=T)
        np.add(B, T, out=B)  # < 2**61 + 2**32
        np.multiply(x[:, None], self._a_lo[None, :], out=T)  # < 2**64
        # fold T: (T & P) + (T >> 61) < 2**61 + 8
        np.add(B, np.bitwise_and(T, P), out=B)
        np.right_shift(T, np.uint64(61), out=T)
        np.add(B, T, out=B)
        np.add(B, self.b[None, :], out=B)  # < 2**63: still no overflow
        np.right_shift(B, np.uint64(61), out=T)
        np.bitwise_and(B, P, out=B)
        np.add(B, T, out=B)  # ≡ (a*x + b) mod p, in [0, p + 4): an injective map of x < 2**32

    def signatures(self, texts: Iterable[str]) -> np.ndarray:
        return self.signatures_from_shingles(self.shingles(texts))


# ---------------------------------------------------------------------------- LSH


def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
                  ) -> tuple[int, int]:
    """(bands, rows) minimising fp_weight·FP-area + fn_weight·FN-area (datasketch's method)."""
    xs = np.linspace(0.0, 1.0, 1001)

    def p(b: int, r: int) -> np.ndarray:
        return 1.0 - (1.0 - xs ** r) ** b

    best, best_err = (1, num_perm), float("inf")
    lo = xs <= threshold
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            pr = p(b, r)
            fp = np.trapezoid(pr[lo], xs[lo])
            fn = np.trapezoid(1.0 - pr[~lo], xs[~lo])
            err = fp_weight * fp + fn_weight * fn
            if err < best_err:
                best, best_err = (b, r), err
    return best


def _band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64 keys: the rows of each band combined and mixed."""
    n = sig.shape[0]
    keys = np.zeros((n, bands), dtype=np.uint64)
    s = sig[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    with np.errstate(over="ignore"):
        for r in range(rows):
            keys = keys * np.uint64(0x9E3779B97F4A7C15) + s[:, :, r] + np.uint64(r + 1)
        keys += np.arange(bands, dtype=np.uint64)[None, :] * np.uint64(0xD6E8FEB86659FD93)
    return _splitmix64(keys)


def lsh_candidate_pairs(sig: np.ndarray, bands: int = DEFAULT_BANDS, rows: int = DEFAULT_ROWS,
                        valid: np.ndarray | None = None, max_bucket: int = 200,
                        cross: np.ndarray | None = None) -> np.ndarray:
    """Unique candidate pairs ``(i, j)``, ``i < j``, that share at least one band.

    A bucket with more than ``max_bucket`` members contributes a star (first member with every
    other) instead of all pairs, which keeps the connectivity union-find needs without the
    quadratic blow-up. ``cross`` (bool per row): only pairs with one True and one False member.
    """
    n = sig.shape[0]
    if bands * rows > sig.shape[1]:
        raise ValueError(f"bands × rows = {bands * rows} > num_perm = {sig.shape[1]}")
    ids = np.arange(n, dtype=np.int64) if valid is None else np.nonzero(valid)[0].astype(np.int64)
    if len(ids) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    keys = _band_keys(sig[ids], bands, rows)
    found: list[np.ndarray] = []
    for band in range(bands):
        k = keys[:, band]
        order = np.argsort(k, kind="stable")
        ks = k[order]
        same = ks[1:] == ks[:-1]
        if not same.any():
            continue
        # Run boundaries of equal keys.
        starts_mask = np.concatenate(([True], ~same))
        run_start = np.nonzero(starts_mask)[0]
        run_len = np.diff(np.concatenate((run_start, [len(ks)])))
        # Pairs of size-2 runs: vectorised.
        two = run_start[run_len == 2]
        if len(two):
            found.append(np.stack([ids[order[two]], ids[order[two + 1]]], axis=1))
        for s, ln in zip(run_start[run_len > 2], run_len[run_len > 2]):
            members = ids[order[s: s + ln]]
            if ln <= max_bucket:
                ii, jj = np.triu_indices(ln, 1)
                found.append(np.stack([members[ii], members[jj]], axis=1))
            else:
                found.append(np.stack([np.repeat(members[0], ln - 1), members[1:]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    pairs.sort(axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    if cross is not None:
        pairs = pairs[cross[pairs[:, 0]] != cross[pairs[:, 1]]]
    code = np.unique(pairs[:, 0] * np.int64(n) + pairs[:, 1])
    return np.stack([code // n, code % n], axis=1)


# ---------------------------------------------------------------------------- near duplicates


@dataclass
class NearDupConfig:
    threshold: float = DEFAULT_THRESHOLD
    num_perm: int = DEFAULT_NUM_PERM
    bands: int = DEFAULT_BANDS
    rows: int = DEFAULT_ROWS
    shingle_size: int = DEFAULT_SHINGLE
    seed: int = 1
    verify: str = "exact"  # "exact" (shingle-set Jaccard) | "estimate" (MinHash estimate)
    max_bucket: int = 200
    chunk_shingles: int = 8192
    family: str = "mersenne"  # permutation family: "mersenne" (a*x+b mod 2**61-1) | "multiply_shift"

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.num_perm:
            raise ValueError("bands × rows must not exceed num_perm")
        if self.verify not in ("exact", "estimate"):
            raise ValueError("verify must be 'exact' or 'estimate'")


@dataclass(frozen=True)
class NearDupPair:
    i: int
    j: int
    estimated: float  # MinHash estimate of the Jaccard similarity
    jaccard: float | None  # exact Jaccard of the shingle sets (None with verify="estimate")

    @property
    def score(self) -> float:
        return self.jaccard if self.jaccard is not None else self.estimated


@dataclass
class NearDupResult:
    pairs: list[NearDupPair]
    n_candidates: int
    signatures: np.ndarray = field(repr=False)
    shingles: ShingleBatch | None = field(default=None, repr=False)


def exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    ua, ub = np.unique(a), np.unique(b)
    if len(ua) == 0 and len(ub) == 0:
        return 1.0
    inter = len(np.intersect1d(ua, ub, assume_unique=True))
    return inter / (len(ua) + len(ub) - inter)


def estimated_jaccard(sig: np.ndarray, pairs: np.ndarray, block: int = 65536) -> np.ndarray:
    out = np.empty(len(pairs), dtype=np.float64)
    for s in range(0, len(pairs), block):
        p = pairs[s: s + block]
        out[s: s + block] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
    return out


def verify_pairs(candidates: np.ndarray, sig: np.ndarray, shingles: ShingleBatch | None, threshold: float,
                 verify: str = "exact") -> list[NearDupPair]:
    est = estimated_jaccard(sig, candidates)
    out: list[NearDupPair] = []
    if verify == "estimate" or shingles is None:
        for (i, j), e in zip(candidates.tolist(), est.tolist()):
            if e >= threshold:
                out.append(NearDupPair(i, j, e, None))
        return out
    uniq: dict[int, np.ndarray] = {}

    def u(i: int) -> np.ndarray:
        if i not in uniq:
            uniq[i] = np.unique(shingles.doc(i))
        return uniq[i]

    for (i, j), e in zip(candidates.tolist(), est.tolist()):
        a, b = u(i), u(j)
        inter = len(np.intersect1d(a, b, assume_unique=True))
        union = len(a) + len(b) - inter
        jac = inter / union if union else 1.0
        if jac >= threshold:
            out.append(NearDupPair(i, j, e, jac))
    return out


def find_near_duplicates(texts: Sequence[str], config: NearDupConfig | None = None,
                         cross: Sequence[bool] | None = None) -> NearDupResult:
    """All pairs of ``texts`` whose shingle Jaccard is ≥ ``config.threshold`` (LSH + verification).

    ``cross``: optional bool per text; only pairs with one True and one False are reported
    (benchmark vs training in decontamination).
    """
    cfg = config or NearDupConfig()
    hasher = MinHasher(cfg.num_perm, cfg.shingle_size, cfg.seed, cfg.chunk_shingles, cfg.family)
    batch = hasher.shingles(texts)
    sig = hasher.signatures_from_shingles(batch)
    valid = batch.counts() > 0
    cross_arr = None if cross is None else np.asarray(cross, dtype=bool)
    cand = lsh_candidate_pairs(sig, cfg.bands, cfg.rows, valid=valid, max_bucket=cfg.max_bucket, cross=cross_arr)
    pairs = verify_pairs(cand, sig, batch, cfg.threshold, cfg.verify)
    return NearDupResult(pairs=pairs, n_candidates=len(cand), signatures=sig,
                         shingles=batch if cfg.verify == "exact" else None)
