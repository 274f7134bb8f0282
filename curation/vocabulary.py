"""The project's shared words, defined once: difficulty dimensions, io formats, test kinds.

Pure Python (no Django): the models build their TextChoices from these, and the rubric, the
normaliser, the judge spec, the exports and the LLM prompts import the same constants, so a
value written by one layer is always one another layer knows.
"""
from __future__ import annotations

# --- difficulty dimensions (rubric order; weights live with the rubric, they are data) ----------
ALGORITHMIC_THINKING = "algorithmic_thinking"
IMPLEMENTATION = "implementation"
MATHEMATICS = "mathematics"
DATA_STRUCTURES = "data_structures"
EDGE_CASES = "edge_cases"
DIMENSIONS: tuple[str, ...] = (ALGORITHMIC_THINKING, IMPLEMENTATION, MATHEMATICS, DATA_STRUCTURES, EDGE_CASES)

# --- how a program talks to the judge -----------------------------------------------------------
IO_STDIN = "stdin"  # a whole program: standard input in, standard output out
IO_FUNCTIONAL = "functional"  # a function or `class Solution` method called with the test's arguments
IO_FORMATS: tuple[str, ...] = (IO_STDIN, IO_FUNCTIONAL)
IO_FORMAT_LABELS = {IO_STDIN: "stdin/stdout", IO_FUNCTIONAL: "function call"}

# --- where a test came from ---------------------------------------------------------------------
TEST_SAMPLE = "sample"  # shown in the statement
TEST_HIDDEN = "hidden"  # the source's secret tests
TEST_GENERATED = "generated"  # made by a generator (CodeContests, ours)
TEST_KINDS: tuple[str, ...] = (TEST_SAMPLE, TEST_HIDDEN, TEST_GENERATED)
