"""Difficulty predictors behind one interface: ``predict_many(problems) -> results``."""
from .base import (
    STATUS_FAILED,
    STATUS_OK,
    CacheKey,
    InMemoryPredictionCache,
    PredictionCache,
    PredictionResult,
    Predictor,
    ProblemInput,
    RunUsage,
)

__all__ = [
    "STATUS_FAILED", "STATUS_OK", "CacheKey", "InMemoryPredictionCache", "PredictionCache",
    "PredictionResult", "Predictor", "ProblemInput", "RunUsage",
]
