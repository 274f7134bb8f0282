"""Helpers for LeetCode-style (functional) data, e.g. the LeetCodeDataset rows.

``input_output`` entries whose expected output is not an answer (the dataset generator
stored the reference's exception, ``Error: ...``, or ``Execution timed out``) are not
tests and are dropped.
"""
from __future__ import annotations

import ast

from .judge import TestCase

INVALID_OUTPUT_PREFIXES = ("Error:", "Execution timed out")


def is_valid_expected(output: str) -> bool:
    return not any(output.startswith(p) for p in INVALID_OUTPUT_PREFIXES)


def leetcode_tests(input_output) -> list[TestCase]:
    """``[{'input': 'n = 7, ...', 'output': '[2, 2]'}, ...]`` (a list or its Python-literal
    string) -> TestCase list, without the invalid entries."""
    if isinstance(input_output, str):
        input_output = ast.literal_eval(input_output)
    return [TestCase(str(t["input"]), str(t["output"])) for t in input_output
            if is_valid_expected(str(t["output"]))]
