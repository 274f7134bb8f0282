"""Prompt texts shared by every caller of a model: the one source of the format instruction
(what shape of program to write) and the solve prompt.

The normaliser stores `format_instruction(...)` on each problem; exports, pass-rate measurement
and evaluation use the stored text, or — for a problem not normalised yet — the same template via
`problem_instruction`. Templates are versioned: change wording by adding a version, never in
place, so stored instructions and exported prompts stay reproducible. Pure Python.
"""
from __future__ import annotations

from curation.vocabulary import IO_FUNCTIONAL, IO_STDIN

FORMAT_INSTRUCTIONS: dict[tuple[str, str], str] = {
    (IO_STDIN, "v1"): (
        "Write a complete Python 3 program that reads the input from standard input and writes "
        "the answer to standard output, following the Input and Output sections exactly. "
        "Do not print anything else (no prompts or debug output)."
    ),
    (IO_FUNCTIONAL, "v1"): (
        "Complete the method `{function_name}` of class Solution in Python 3. Do not read from "
        "standard input or print; return the result. Use this starter code:\n\n"
        "```python\n{starter_code}\n```"
    ),
}
DEFAULT_FORMAT_VERSION = "v1"
SOLVE_PROMPT_VERSION = "v1"
SOLVE_SYSTEM = "You are an expert competitive programmer. Solve the problem. Answer with one fenced code block."


def format_instruction(io_format: str, function_name: str = "", starter_code: str = "",
                       version: str = DEFAULT_FORMAT_VERSION) -> str:
    try:
        template = FORMAT_INSTRUCTIONS[(io_format, version)]
    except KeyError:
        raise ValueError(f"no format instruction for ({io_format!r}, {version!r})") from None
    starter = starter_code.rstrip() if starter_code else ""
    if io_format == IO_FUNCTIONAL and not starter and function_name:
        starter = f"class Solution:\n    def {function_name}(self, *args):\n        pass"
    return template.format(function_name=function_name, starter_code=starter)


def problem_instruction(stored: str | None, io_format: str | None, function_name: str | None = "",
                        starter_code: str | None = "") -> str:
    """The stored instruction, or the current template for the problem's io format."""
    text = (stored or "").strip()
    if text:
        return text
    io_format = io_format if io_format in (IO_STDIN, IO_FUNCTIONAL) else IO_STDIN
    if io_format == IO_FUNCTIONAL and not (function_name or starter_code):
        io_format = IO_STDIN  # nothing to name: a whole program is the only instruction we can give
    return format_instruction(io_format, function_name or "", starter_code or "")


def io_format_description(io_format: str) -> str:
    """How the difficulty prompt names the io format."""
    return "function (LeetCode style)" if io_format == IO_FUNCTIONAL else "standard input/output"


def solve_messages(title: str, statement: str, instruction: str) -> list[dict[str, str]]:
    """Chat messages asking a model for one solution (pass-rate measurement, evaluation)."""
    return [
        {"role": "system", "content": SOLVE_SYSTEM},
        {"role": "user", "content": f"Solve this problem.\n\n# {title}\n\n{statement}\n\n{instruction}"},
    ]
