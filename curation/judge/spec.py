"""The judge spec: everything needed to judge a candidate program for one problem.

One value, built once from a problem (verification, pass-rate measurement) or read back from a
frozen snapshot item / an export's ground truth (the RL reward, evaluation), so that a problem is
judged by the same rule, entry point, prelude, limits and tests wherever it is judged.

Pure Python (no Django): the training job imports it beside the sandbox.

    spec = JudgeSpec(io_format="stdin", comparison={"mode": "tokens"}, time_limit_s=2.0,
                     memory_limit_mb=256, tests=(("1 2\\n", "3\\n"),))
    report = spec.judge(code, "python3")
    JudgeSpec.from_dict(spec.to_dict()) == spec
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from curation.errors import FieldError
from curation.vocabulary import IO_FORMATS  # stdin | functional

from .compare import normalize_rule
from .results import JudgeReport, Limits
from .sandbox import SandboxConfig

SPEC_VERSION = 1
# Bounds that keep a hand-edited or hostile spec from asking the sandbox for absurd resources.
MAX_TIME_LIMIT_S = 60.0
MAX_MEMORY_MB = 8192
DEFAULT_TIME_LIMIT_S = 6.0
DEFAULT_MEMORY_MB = 512
# CPython alone needs more than some sources' limits (written for C++): never judge below this.
MIN_JUDGE_MEMORY_MB = 256


class JudgeSpecError(FieldError):
    """A spec that cannot be built; names the field."""


@dataclass(frozen=True)
class JudgeSpec:
    io_format: str = "stdin"
    comparison: dict = field(default_factory=lambda: {"mode": "tokens"})
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    memory_limit_mb: int = DEFAULT_MEMORY_MB
    tests: tuple[tuple[str, str], ...] = ()
    entry_point: str | None = None   # functional: `Solution().method`, `method` or a function
    prelude: str | None = None       # functional: code run before the solution (None = LeetCode's)

    def __post_init__(self) -> None:
        if self.io_format not in IO_FORMATS:
            raise JudgeSpecError("io_format", f"must be one of {', '.join(IO_FORMATS)}, got {self.io_format!r}")
        if not isinstance(self.comparison, dict) or "mode" not in self.comparison:
            raise JudgeSpecError("comparison", "must be a rule object with a 'mode'")
        if self.io_format == "stdin":
            try:
                normalize_rule(self.comparison)
            except (ValueError, TypeError, KeyError) as exc:
                raise JudgeSpecError("comparison", str(exc)) from exc
        if not isinstance(self.time_limit_s, (int, float)) or not math.isfinite(self.time_limit_s) \
                or not 0 < self.time_limit_s <= MAX_TIME_LIMIT_S:
            raise JudgeSpecError("time_limit_s", f"must be in (0, {MAX_TIME_LIMIT_S:g}], got {self.time_limit_s!r}")
        if not isinstance(self.memory_limit_mb, int) or not 16 <= self.memory_limit_mb <= MAX_MEMORY_MB:
            raise JudgeSpecError("memory_limit_mb", f"must be an integer in [16, {MAX_MEMORY_MB}], got {self.memory_limit_mb!r}")
        if self.io_format == "functional" and not self.entry_point:
            raise JudgeSpecError("entry_point", "a functional problem needs an entry point")
        for i, test in enumerate(self.tests):
            if not (isinstance(test, tuple) and len(test) == 2 and all(isinstance(x, str) for x in test)):
                raise JudgeSpecError(f"tests[{i}]", "must be an (input, expected) pair of strings")

    @property
    def limits(self) -> Limits:
        return Limits(time_s=float(self.time_limit_s), memory_mb=int(self.memory_limit_mb))

    def with_tests(self, tests) -> "JudgeSpec":
        return replace(self, tests=tuple((str(i), str(o)) for i, o in tests))

    def judge(self, code: str, language: str = "python3", *, config: SandboxConfig | None = None,
              limits: Limits | None = None) -> JudgeReport:
        """Judge `code` on every test of the spec. Raises SandboxUnavailable as judge_solution does."""
        from .judge import judge_solution  # judge imports sandbox machinery; keep spec import light

        functional = self.io_format == "functional"
        return judge_solution(
            code, language, list(self.tests), mode=self.io_format,
            function_name=self.entry_point if functional else None,
            comparison=self.comparison, limits=limits or self.limits,
            config=config or SandboxConfig(), prelude=self.prelude if functional else None,
        )

    # --- freezing ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; what snapshots freeze and exports carry as ground truth."""
        return {
            "version": SPEC_VERSION,
            "io_format": self.io_format,
            "comparison": dict(self.comparison),
            "time_limit_s": float(self.time_limit_s),
            "memory_limit_mb": int(self.memory_limit_mb),
            "entry_point": self.entry_point,
            "prelude": self.prelude,
            "tests": [{"input": i, "output": o} for i, o in self.tests],
        }

    @classmethod
    def from_dict(cls, data: Any) -> "JudgeSpec":
        """Inverse of to_dict; raises JudgeSpecError naming the bad field (never KeyError)."""
        if not isinstance(data, dict):
            raise JudgeSpecError("spec", f"expected an object, got {type(data).__name__}")
        version = data.get("version", SPEC_VERSION)
        if version != SPEC_VERSION:
            raise JudgeSpecError("version", f"unsupported spec version {version!r}")
        raw_tests = data.get("tests") or []
        if not isinstance(raw_tests, list):
            raise JudgeSpecError("tests", "must be a list")
        tests = []
        for i, test in enumerate(raw_tests):
            if isinstance(test, dict):
                pair = (test.get("input"), test.get("output", test.get("expected")))
            elif isinstance(test, (list, tuple)) and len(test) == 2:
                pair = tuple(test)
            else:
                raise JudgeSpecError(f"tests[{i}]", "must be {input, output}")
            if not all(isinstance(x, str) for x in pair):
                raise JudgeSpecError(f"tests[{i}]", "input and output must be strings")
            tests.append(pair)
        try:
            time_limit = float(data.get("time_limit_s", DEFAULT_TIME_LIMIT_S))
            memory = int(data.get("memory_limit_mb", DEFAULT_MEMORY_MB))
        except (TypeError, ValueError) as exc:
            raise JudgeSpecError("limits", str(exc)) from exc
        return cls(
            io_format=data.get("io_format") or "stdin",
            comparison=data.get("comparison") or {"mode": "tokens"},
            time_limit_s=time_limit, memory_limit_mb=memory,
            tests=tuple(tests), entry_point=data.get("entry_point") or None,
            prelude=data.get("prelude"),
        )

    # --- building from a problem's fields -------------------------------------------------------
    @classmethod
    def from_fields(cls, *, io_format: str | None, comparison: dict | None, time_limit_ms: int | float | None,
                    memory_limit_mb: int | None, tests=(), function_name: str | None = None,
                    entry_point: str | None = None, prelude: str | None = None) -> "JudgeSpec":
        """The spec of a problem from its stored fields (a Problem row or a frozen item's keys).

        Absent limits take the defaults; limits beyond the spec's bounds are clamped rather than
        refused (a source's ``.inf`` or a 100 s limit still judges, at the bound); memory is at
        least MIN_JUDGE_MEMORY_MB. A functional problem is called through ``entry_point`` (the
        source's, e.g. ``Solution().twoSum``) or else its function name, after ``prelude``."""
        io_format = io_format or "stdin"
        functional = io_format == "functional"
        try:
            seconds = float(time_limit_ms) / 1000 if time_limit_ms else DEFAULT_TIME_LIMIT_S
        except (TypeError, ValueError) as exc:
            raise JudgeSpecError("time_limit_ms", str(exc)) from exc
        if not math.isfinite(seconds) or seconds > MAX_TIME_LIMIT_S:
            seconds = MAX_TIME_LIMIT_S
        memory = min(MAX_MEMORY_MB, max(MIN_JUDGE_MEMORY_MB, int(memory_limit_mb or DEFAULT_MEMORY_MB)))
        return cls(
            io_format=io_format, comparison=comparison or {"mode": "tokens"}, time_limit_s=seconds,
            memory_limit_mb=memory, tests=tuple((str(i), str(o)) for i, o in tests),
            entry_point=(entry_point or function_name or None) if functional else None,
            prelude=prelude if functional else None,
        )

    @classmethod
    def from_item(cls, item: Any) -> "JudgeSpec":
        """The spec of a frozen snapshot item (its ``judge`` key) or of an export's ground truth
        (the APPS-shaped ``inputs``/``outputs`` plus the spec fields). Items frozen before the
        spec existed are rebuilt from their problem fields, the way the problem was judged."""
        if not isinstance(item, dict):
            raise JudgeSpecError("item", f"expected an object, got {type(item).__name__}")
        if isinstance(item.get("judge"), dict):
            return cls.from_dict(item["judge"])
        if "inputs" in item:  # ground truth
            inputs, outputs = item.get("inputs"), item.get("outputs")
            if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
                raise JudgeSpecError("inputs", "inputs and outputs must be lists of the same length")
            data = {k: v for k, v in item.items() if k not in ("inputs", "outputs", "fn_name")}
            data["tests"] = [{"input": i, "output": o} for i, o in zip(inputs, outputs)]
            data.setdefault("entry_point", item.get("fn_name"))
            if item.get("fn_name") and not item.get("io_format"):
                data["io_format"] = "functional"  # APPS/TACO ground truth: fn_name means a function call
            return cls.from_dict(data)
        tests = item.get("tests") or []
        if not isinstance(tests, list) or not all(isinstance(t, dict) for t in tests):
            raise JudgeSpecError("tests", "must be a list of {input, output}")
        return cls.from_fields(
            io_format=item.get("io_format"), comparison=item.get("comparison"),
            time_limit_ms=item.get("time_limit_ms"), memory_limit_mb=item.get("memory_limit_mb"),
            tests=[(t.get("input", ""), t.get("output", "")) for t in tests],
            function_name=item.get("function_name"), entry_point=item.get("entry_point"), prelude=item.get("prelude"),
        )
