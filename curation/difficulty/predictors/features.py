"""Offline difficulty model on statement and constraint features (no API calls).

A multinomial logistic regression (standardised features) predicts P(easy), P(medium), P(hard).
It is saved as JSON (feature names, scaler, coefficients) and predicted with numpy alone.

Mapping to the five rubric scores (documented, deterministic): let
``d = 0.5 * P(medium) + 1.0 * P(hard)`` (expected difficulty in [0, 1]) and, per dimension, a
feature signal ``s`` in [0, 1]:

* algorithmic_thinking: idea-heavy tags (dp, graphs, constructive, games, flows, ...) and the size
  of the largest bound (a bound of 1e5+ rules out quadratic solutions);
* implementation: the reference solution's length between the training 10th and 90th percentiles
  (statement length when no solution is known), plus ``implementation``-style tags;
* mathematics: maths tags (math, number theory, combinatorics, probabilities, geometry, ...),
  maths symbol density, a prime modulus;
* data_structures: data-structure tags (segment tree, dsu, trees, heaps, tries, ...) and queries;
* edge_cases: 64-bit overflow risk (bound >= 1e9), floating-point precision, multiple test cases,
  "print any" answers, bound size.

``score = clip(round(1 + 9 * (0.6 * d + 0.4 * s)), 1, 10)``; the reason names what drove it.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from ..rubric import DEFAULT_RUBRIC, DIMENSION_KEYS, Rubric, weighted_score
from .base import STATUS_FAILED, STATUS_OK, PredictionResult, ProblemInput

FEATURE_MODEL_VERSION = "features-v1"
CLASSES = ("easy", "medium", "hard")
DIFFICULTY_VALUE = {"easy": 0.0, "medium": 0.5, "hard": 1.0}

# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------

_CF_INDEX_RE = re.compile(r"^([A-Za-z])\d*$")


def label_from_index(index: str) -> str | None:
    """Codeforces/CodeContests problem letter: A/B -> easy, C/D -> medium, E and later -> hard."""
    m = _CF_INDEX_RE.match((index or "").strip())
    if not m:
        return None
    letter = m.group(1).upper()
    if letter in "AB":
        return "easy"
    if letter in "CD":
        return "medium"
    return "hard"


def label_from_codecontests_difficulty(value: int | str | None) -> str | None:
    """CodeContests difficulty enum: 7=A, 8=B, 9=C, 10=D, 11=E, ... (others/unknown -> None)."""
    try:
        v = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if v < 7:
        return None
    return label_from_index(chr(ord("A") + v - 7)) if v <= 7 + 25 else "hard"


def normalise_label(label: str | None) -> str | None:
    """easy | medium | hard from LeetCode labels (incl. the ``Meidum`` typo) or a letter index."""
    if label is None:
        return None
    s = str(label).strip().strip("'\"").lower()
    if s in ("easy", "medium", "hard"):
        return s
    if s in ("meidum", "med"):
        return "medium"
    return label_from_index(s)


# --------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------

TAG_SYNONYMS = {
    "dynamic programming": "dp",
    "graph": "graphs",
    "depth-first search": "dfs and similar",
    "breadth-first search": "dfs and similar",
    "binary search": "binary search",
    "math": "math",
    "number theory": "number theory",
    "greedy": "greedy",
    "string": "strings",
    "segment tree": "data structures",
    "binary indexed tree": "data structures",
    "union find": "dsu",
    "tree": "trees",
    "binary tree": "trees",
    "heap (priority queue)": "data structures",
    "hash table": "hash table",
    "sorting": "sortings",
    "two pointers": "two pointers",
    "bit manipulation": "bitmasks",
    "bitmask": "bitmasks",
    "combinatorics": "combinatorics",
    "geometry": "geometry",
    "simulation": "implementation",
    "shortest path": "shortest paths",
    "topological sort": "graphs",
    "trie": "data structures",
    "monotonic stack": "data structures",
    "ordered set": "data structures",
    "game theory": "games",
    "probability and statistics": "probabilities",
    "brainteaser": "constructive algorithms",
}
IDEA_TAGS = {"dp", "graphs", "constructive algorithms", "games", "flows", "divide and conquer",
             "dfs and similar", "shortest paths", "binary search", "bitmasks", "interactive",
             "2-sat", "graph matchings", "meet-in-the-middle", "fft", "string suffix structures",
             "greedy", "two pointers"}
MATH_TAGS = {"math", "number theory", "combinatorics", "probabilities", "geometry", "matrices",
             "fft", "chinese remainder theorem"}
DS_TAGS = {"data structures", "dsu", "trees", "string suffix structures", "hash table", "graphs",
           "hashing"}
IMPL_TAGS = {"implementation", "brute force", "strings", "expression parsing", "schedules"}

_POW_RE = re.compile(r"(\d+(?:\.\d+)?)?\s*(?:[⋅·×*x]|\\cdot|\\times)?\s*10\s*(?:\^|\*\*)\s*\{?\s*(\d{1,2})\s*\}?")
_SCI_RE = re.compile(r"\b(\d+(?:\.\d+)?)[eE]\+?(\d{1,2})\b")
_CMP_RE = re.compile(r"(?:≤|<=|≥|>=|<|>|\\le|\\leq|\\ge)")
_NUM_RE = re.compile(r"\d{1,3}(?:[  ,]\d{3})+(?!\d)|\d+(?:\.\d+)?")
_LOST_POW_RE = re.compile(r"^10(1[0-8]|[3-9])$")  # "105" in "<= 105" is 10^5 with its superscript lost
_MATH_SYMBOL_RE = re.compile(
    r"[≤≥∑∏√∞≡⌊⌋⌈⌉πφ]|\\sum|\\prod|\\frac|\\binom|\bmod(?:ulo)?\b|\bgcd\b|\blcm\b|\bprime\b|"
    r"\bprobabilit|\bexpected value\b|\bdivisor|\bfactorial\b|\bpolynomial\b|\bbinomial\b",
    re.I,
)
_MOD_PRIME_RE = re.compile(r"10\s*\^\s*\{?9\}?\s*\+\s*7|1000000007|998\s*244\s*353|109\s*\+\s*7", re.I)
_FLOAT_RE = re.compile(r"absolute or relative error|relative error|10\s*\^\s*\{?\s*-\s*\d|precision|real number|"
                       r"floating", re.I)
_MULTITEST_RE = re.compile(r"\btest cases?\b|\bnumber of tests\b", re.I)
_QUERIES_RE = re.compile(r"\bquer(?:y|ies)\b", re.I)
_ANY_RE = re.compile(r"print any|output any|return any|any of them", re.I)


def _to_number(token: str) -> float | None:
    t = token.replace(" ", "").replace("\u00a0", "").replace(",", "")
    try:
        return float(t)
    except ValueError:
        return None


def largest_bound(text: str) -> float:
    """The largest numeric bound stated in ``text`` (0 if none): ``2·10^5``, ``10^{9}``, ``1e9``,
    ``200 000`` after a comparison sign, and LeetCode's lost superscripts (``<= 105`` = 10^5)."""
    best = 0.0
    for m in _POW_RE.finditer(text):
        if re.match(r"\s*[+-]\s*\d", text[m.end():]) or re.search(r"mod(?:ulo)?\W*$", text[max(0, m.start() - 12):m.start()], re.I):
            continue  # a modulus (10^9 + 7), not a bound
        mant = float(m.group(1)) if m.group(1) else 1.0
        exp = int(m.group(2))
        if exp <= 30:
            best = max(best, mant * 10.0 ** exp)
    for m in _SCI_RE.finditer(text):
        exp = int(m.group(2))
        if exp <= 30:
            best = max(best, float(m.group(1)) * 10.0 ** exp)
    for m in _CMP_RE.finditer(text):
        window = text[m.end(): m.end() + 28]
        window = re.split(r"[;\n]|(?:≤|<=|≥|>=)", window)[0]
        for nm in _NUM_RE.finditer(window):
            tok = nm.group(0)
            lost = _LOST_POW_RE.match(tok)
            if lost:
                # "2 * 105" / "2·105": mantissa before a lost superscript
                pre = re.search(r"(\d+(?:\.\d+)?)\s*(?:[⋅·×*]|\\cdot)\s*$", window[: nm.start()])
                mant = float(pre.group(1)) if pre else 1.0
                best = max(best, mant * 10.0 ** int(lost.group(1)))
                continue
            v = _to_number(tok)
            if v is not None and v < 1e30:
                best = max(best, v)
    return best


def normalise_tag(tag: str) -> str:
    t = " ".join(str(tag).strip().lower().split())
    return TAG_SYNONYMS.get(t, t)


def _statement_before_examples(text: str) -> str:
    """Statement text without the sample blocks (Codeforces "Examples" / LeetCode "Example 1:"),
    keeping a LeetCode "Constraints:" section that follows the examples."""
    cut = re.search(r"\n\s*(?:Examples?\s*\n|Example 1:|### Example|## Examples)", text)
    if not cut:
        return text
    head = text[: cut.start()]
    cons = re.search(r"\n\s*Constraints:\s*\n(.*)", text[cut.start():], re.S)
    return head + ("\nConstraints:\n" + cons.group(1) if cons else "")


@dataclass
class ProblemFeatures:
    values: dict[str, float]
    bound: float
    tags: list[str]
    flags: dict[str, bool]


def extract_features(problem: ProblemInput) -> ProblemFeatures:
    text = problem.statement or ""
    body = _statement_before_examples(text)
    constraints_text = (problem.constraints or "") + "\n" + body
    bound = largest_bound(constraints_text)
    log_bound = math.log10(bound) if bound >= 1 else 0.0
    tags = sorted({normalise_tag(t) for t in problem.tags if str(t).strip()})
    sizes = [max(0, int(s)) for s in problem.test_input_bytes]
    math_symbols = len(_MATH_SYMBOL_RE.findall(text))
    flags = {
        "mod_prime": bool(_MOD_PRIME_RE.search(text)),
        "float_precision": bool(_FLOAT_RE.search(text)),
        "multi_test": bool(_MULTITEST_RE.search(body)),
        "queries": bool(_QUERIES_RE.search(body)),
        "print_any": bool(_ANY_RE.search(text)),
        "overflow": bound >= 2**31,
    }
    sample_count = problem.sample_count or len(re.findall(r"Example \d+:|### Example", text))
    values = {
        "log_bound": log_bound,
        "has_bound": float(bound > 0),
        "bound_ge_1e5": float(bound >= 1e5),
        "bound_ge_1e9": float(bound >= 1e9),
        "bound_ge_1e18": float(bound >= 1e18),
        "log_statement_chars": math.log1p(len(text)),
        "log_body_words": math.log1p(len(body.split())),
        "n_tags": float(len(tags)),
        "n_idea_tags": float(len(IDEA_TAGS.intersection(tags))),
        "n_math_tags": float(len(MATH_TAGS.intersection(tags))),
        "n_ds_tags": float(len(DS_TAGS.intersection(tags))),
        "log_test_count": math.log1p(problem.test_count),
        "log_max_test_bytes": math.log1p(max(sizes) if sizes else 0),
        "log_mean_test_bytes": math.log1p(sum(sizes) / len(sizes) if sizes else 0),
        "log_solution_chars": math.log1p(problem.solution_length),
        "log_solution_lines": math.log1p(problem.solution_lines),
        "has_solution": float(problem.solution_length > 0),
        "io_functional": float(problem.io_format == "functional"),
        "sample_count": float(min(sample_count, 10)),
        "log_math_symbols": math.log1p(math_symbols),
        "math_density": 1000.0 * math_symbols / max(200, len(text)),
        "log_time_limit": math.log1p(problem.time_limit_ms or 0),
        **{f"flag_{k}": float(v) for k, v in flags.items()},
    }
    return ProblemFeatures(values, bound, tags, flags)


def _fmt_bound(bound: float) -> str:
    if bound <= 0:
        return "none"
    exp = int(math.floor(math.log10(bound)))
    mant = bound / 10**exp
    if exp < 4:
        return f"{bound:g}"
    return f"{mant:g}e{exp}" if abs(mant - round(mant)) < 1e-9 else f"{mant:.1f}e{exp}"


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------

@dataclass
class FeatureModel:
    feature_names: list[str]
    tag_vocab: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[list[float]]  # classes x features
    intercept: list[float]
    classes: list[str] = field(default_factory=lambda: list(CLASSES))
    version: str = FEATURE_MODEL_VERSION
    cv_accuracy: float | None = None
    cv_accuracy_std: float | None = None
    cv_folds: int = 0
    n_train: int = 0
    label_counts: dict[str, int] = field(default_factory=dict)
    solution_log_p10: float = 5.0
    solution_log_p90: float = 8.0
    statement_log_p10: float = 6.0
    statement_log_p90: float = 8.0

    # -- features -> vector --------------------------------------------------------------------
    def vector(self, feats: ProblemFeatures) -> np.ndarray:
        v = dict(feats.values)
        for t in self.tag_vocab:
            v[f"tag:{t}"] = float(t in feats.tags)
        return np.array([v.get(n, 0.0) for n in self.feature_names], dtype=float)

    def predict_proba_features(self, feats: ProblemFeatures) -> dict[str, float]:
        x = (self.vector(feats) - np.asarray(self.mean)) / np.asarray(self.scale)
        logits = np.asarray(self.coef) @ x + np.asarray(self.intercept)
        logits -= logits.max()
        p = np.exp(logits)
        p /= p.sum()
        return {c: float(pi) for c, pi in zip(self.classes, p)}

    def predict_proba(self, problem: ProblemInput) -> dict[str, float]:
        return self.predict_proba_features(extract_features(problem))

    def predict_label(self, problem: ProblemInput) -> str:
        p = self.predict_proba(problem)
        return max(p, key=p.get)  # type: ignore[arg-type]

    # -- serialisation (JSON, no pickle) -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FeatureModel":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_json(cls, text: str) -> "FeatureModel":
        return cls.from_dict(json.loads(text))

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())

    @classmethod
    def load(cls, path: str) -> "FeatureModel":
        with open(path, encoding="utf-8") as fh:
            return cls.from_json(fh.read())

    # -- the five scores ---------------------------------------------------------------------
    def dimension_scores(self, problem: ProblemInput) -> tuple[dict[str, int], dict[str, str], dict[str, float]]:
        feats = extract_features(problem)
        proba = self.predict_proba_features(feats)
        d = sum(DIFFICULTY_VALUE[c] * p for c, p in proba.items())
        v = feats.values
        tags = feats.tags
        bound_term = min(1.0, max(0.0, (v["log_bound"] - 3.0) / 6.0))
        idea = sorted(IDEA_TAGS.intersection(tags))
        maths = sorted(MATH_TAGS.intersection(tags))
        ds = sorted(DS_TAGS.intersection(tags))
        impl = sorted(IMPL_TAGS.intersection(tags))

        def unit(x: float, lo: float, hi: float) -> float:
            return 0.0 if hi <= lo else min(1.0, max(0.0, (x - lo) / (hi - lo)))

        if v["has_solution"]:
            length_term = unit(v["log_solution_chars"], self.solution_log_p10, self.solution_log_p90)
            length_note = f"solution {problem.solution_length} chars"
        else:
            length_term = unit(v["log_statement_chars"], self.statement_log_p10, self.statement_log_p90)
            length_note = f"statement {len(problem.statement)} chars"
        signals = {
            "algorithmic_thinking": min(1.0, 0.25 * len(idea) + 0.5 * bound_term),
            "implementation": min(1.0, 0.8 * length_term + 0.2 * bool(impl)),
            "mathematics": min(1.0, 0.4 * len(maths) + 0.15 * v["log_math_symbols"] + 0.3 * feats.flags["mod_prime"]),
            "data_structures": min(1.0, 0.4 * len(ds) + 0.2 * feats.flags["queries"] + 0.2 * bound_term),
            "edge_cases": min(1.0, 0.3 * feats.flags["overflow"] + 0.3 * feats.flags["float_precision"]
                              + 0.15 * feats.flags["multi_test"] + 0.15 * feats.flags["print_any"]
                              + 0.2 * bound_term),
        }
        head = f"P(hard)={proba['hard']:.2f}, P(easy)={proba['easy']:.2f}"
        drivers = {
            "algorithmic_thinking": [f"largest bound {_fmt_bound(feats.bound)}"]
            + ([f"tags: {', '.join(idea)}"] if idea else []),
            "implementation": [length_note] + ([f"tags: {', '.join(impl)}"] if impl else []),
            "mathematics": ([f"tags: {', '.join(maths)}"] if maths else [])
            + [f"{int(round(math.expm1(v['log_math_symbols'])))} maths symbols"]
            + (["prime modulus"] if feats.flags["mod_prime"] else []),
            "data_structures": ([f"tags: {', '.join(ds)}"] if ds else ["no data-structure tags"])
            + (["queries"] if feats.flags["queries"] else []),
            "edge_cases": [k for k, on in (("overflow risk (bound >= 2^31)", feats.flags["overflow"]),
                                           ("floating-point precision", feats.flags["float_precision"]),
                                           ("multiple test cases", feats.flags["multi_test"]),
                                           ("any valid answer", feats.flags["print_any"])) if on]
            or [f"largest bound {_fmt_bound(feats.bound)}"],
        }
        scores = {k: int(min(10, max(1, round(1 + 9 * (0.6 * d + 0.4 * signals[k]))))) for k in DIMENSION_KEYS}
        reasons = {k: f"{head}; " + "; ".join(drivers[k]) for k in DIMENSION_KEYS}
        return scores, reasons, proba


def _tag_vocab(tag_lists: Sequence[Sequence[str]], min_count: int) -> list[str]:
    counts: dict[str, int] = {}
    for tags in tag_lists:
        for t in set(tags):
            counts[t] = counts.get(t, 0) + 1
    return sorted(t for t, c in counts.items() if c >= min_count)


def train(
    problems: Sequence[ProblemInput],
    labels: Sequence[str],
    folds: int = 5,
    min_tag_count: int = 5,
    C: float = 0.5,
    random_state: int = 0,
) -> FeatureModel:
    """Fit the model on all data; the stratified ``folds``-fold CV accuracy is stored on it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    norm = [normalise_label(lab) for lab in labels]
    pairs = [(p, lab) for p, lab in zip(problems, norm) if lab is not None]
    if len(pairs) < 10:
        raise ValueError("need at least 10 labelled problems")
    feats = [extract_features(p) for p, _ in pairs]
    y = np.array([lab for _, lab in pairs])
    vocab = _tag_vocab([f.tags for f in feats], min_tag_count)
    names = list(feats[0].values) + [f"tag:{t}" for t in vocab]
    stub = FeatureModel(names, vocab, [0.0] * len(names), [1.0] * len(names),
                        [[0.0] * len(names)] * 3, [0.0] * 3)
    X = np.vstack([stub.vector(f) for f in feats])

    def make() -> Any:
        return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))

    cv_mean = cv_std = None
    present = sorted(set(y))
    min_class = min(int((y == c).sum()) for c in present)
    k = min(folds, min_class)
    if k >= 2:
        cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
        acc = cross_val_score(make(), X, y, cv=cv, scoring="accuracy")
        cv_mean, cv_std = float(acc.mean()), float(acc.std())
    pipe = make().fit(X, y)
    scaler, lr = pipe[0], pipe[-1]
    classes = [str(c) for c in lr.classes_]
    coef = lr.coef_
    intercept = lr.intercept_
    if coef.shape[0] == 1:  # binary problem: sklearn stores one row
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    sol = np.array([f.values["log_solution_chars"] for f in feats if f.values["has_solution"]])
    stm = np.array([f.values["log_statement_chars"] for f in feats])
    scale = np.where(scaler.scale_ == 0, 1.0, scaler.scale_)
    model = FeatureModel(
        feature_names=names, tag_vocab=vocab,
        mean=[float(v) for v in scaler.mean_], scale=[float(v) for v in scale],
        coef=[[float(v) for v in row] for row in coef], intercept=[float(v) for v in intercept],
        classes=classes, cv_accuracy=cv_mean, cv_accuracy_std=cv_std, cv_folds=k if k >= 2 else 0,
        n_train=len(y), label_counts={c: int((y == c).sum()) for c in present},
        solution_log_p10=float(np.percentile(sol, 10)) if len(sol) else 5.0,
        solution_log_p90=float(np.percentile(sol, 90)) if len(sol) else 8.0,
        statement_log_p10=float(np.percentile(stm, 10)),
        statement_log_p90=float(np.percentile(stm, 90)),
    )
    # Missing classes (e.g. a training set without "hard") get a -inf-like logit.
    for c in CLASSES:
        if c not in model.classes:
            model.classes.append(c)
            model.coef.append([0.0] * len(names))
            model.intercept.append(-50.0)
    return model


class FeaturePredictor:
    """``Predictor`` backed by a trained :class:`FeatureModel` (no network)."""

    name = "features"

    def __init__(self, model: FeatureModel, rubric: Rubric = DEFAULT_RUBRIC) -> None:
        self.model = model
        self.rubric = rubric

    def predict_many(self, problems: Sequence[ProblemInput]) -> list[PredictionResult]:
        out = []
        for p in problems:
            try:
                scores, reasons, _proba = self.model.dimension_scores(p)
                if set(self.rubric.keys) != set(scores):
                    raise ValueError(f"rubric {self.rubric.version} has dimensions the feature model does not score")
                out.append(PredictionResult(
                    problem_id=p.id, status=STATUS_OK, scores=scores, reasons=reasons,
                    weighted_score=round(weighted_score(scores, self.rubric), 6), attempts=1,
                    predictor=self.name, model=self.model.version, rubric_version=self.rubric.version,
                    prompt_version="", content_hash=p.content_hash,
                ))
            except Exception as e:  # noqa: BLE001 - one bad problem must not sink the run
                out.append(PredictionResult(
                    problem_id=p.id, status=STATUS_FAILED, error=f"{type(e).__name__}: {e}", attempts=1,
                    predictor=self.name, model=self.model.version, rubric_version=self.rubric.version,
                    content_hash=p.content_hash,
                ))
        return out
