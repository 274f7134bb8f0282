"""Difficulty core (pure Python, no Django) after arXiv 2603.07779: an LLM scores each problem on
five weighted dimensions, the weighted score is calibrated against measured pass rates, and the
hard problems are selected.

* ``rubric``: ``Rubric``, ``DEFAULT_RUBRIC`` (v1), ``weighted_score``.
* ``predictors``: ``ProblemInput`` -> ``Predictor.predict_many`` -> ``PredictionResult``;
  ``predictors.llm.LLMPredictor`` (OpenAI-compatible endpoint, cache, retries) and
  ``predictors.features.FeaturePredictor`` (offline scikit-learn model, JSON-serialised).
* ``passrate``: code extraction, unbiased pass@k, graded-results parser.
* ``calibration``: isotonic/logistic score -> pass-rate maps, Spearman, reliability, weight refit.
* ``selection``: buckets, cut-off / target-easy-share policies, ``preview``.
"""
from .rubric import DEFAULT_RUBRIC, DIMENSION_KEYS, Dimension, Rubric, RubricError, weighted_score

__all__ = ["DEFAULT_RUBRIC", "DIMENSION_KEYS", "Dimension", "Rubric", "RubricError", "weighted_score"]
