"""The prompt of each io format, LiveCodeBench's own wording for chat models (so numbers compare
with published LiveCodeBench figures). A run stores the templates it used; `{statement}` and
`{starter_code}` are filled in. Pure Python."""
from __future__ import annotations

PROMPT_VERSION = "lcb-v1"

SYSTEM = (
    "You are an expert Python programmer. You will be given a question (problem specification) and will "
    "generate a correct Python program that matches the specification and passes all tests."
)

DEFAULT_PROMPTS = {
    "system": SYSTEM,
    "stdin": (
        "### Question:\n{statement}\n\n"
        "### Format: Read the inputs from stdin solve the problem and write the answer to stdout (do not directly "
        "test on the sample inputs). Enclose your code within delimiters as follows. Ensure that when the python "
        "program runs, it reads the inputs, runs the algorithm and writes output to STDOUT.\n"
        "```python\n# YOUR CODE HERE\n```\n\n"
        "### Answer: (use the provided format with backticks)\n\n"
    ),
    "functional": (
        "### Question:\n{statement}\n\n"
        "### Format: You will use the following starter code to write the solution to the problem and enclose "
        "your code within delimiters.\n```python\n{starter_code}\n```\n\n"
        "### Answer: (use the provided format with backticks)\n\n"
    ),
}
PROMPT_KEYS = tuple(DEFAULT_PROMPTS)


class PromptError(ValueError):
    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def prompts_normalize(prompts: dict | None) -> dict[str, str]:
    """Defaults for what is missing; refuses unknown keys and templates with unknown fields."""
    out = dict(DEFAULT_PROMPTS)
    for key, value in (prompts or {}).items():
        if key not in DEFAULT_PROMPTS:
            raise PromptError(f"prompts.{key}", f"unknown prompt; known: {', '.join(PROMPT_KEYS)}")
        if not isinstance(value, str) or not value.strip():
            raise PromptError(f"prompts.{key}", "expected a non-empty template")
        try:
            value.format(statement="", starter_code="")
        except (KeyError, IndexError, ValueError) as exc:
            raise PromptError(f"prompts.{key}", f"template fields are {{statement}} and {{starter_code}} ({exc})") from None
        out[key] = value
    return out


def messages_for(prompts: dict[str, str], *, statement: str, io_format: str, starter_code: str = "") -> list[dict]:
    template = prompts["functional" if io_format == "functional" else "stdin"]
    user = template.format(statement=statement.strip(), starter_code=(starter_code or "").rstrip())
    return [{"role": "system", "content": prompts["system"]}, {"role": "user", "content": user}]
