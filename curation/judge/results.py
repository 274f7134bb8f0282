"""Verdicts, limits and result records of the judge (plain dataclasses, no Django)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import Enum


class Verdict(str, Enum):
    AC = "AC"    # accepted
    WA = "WA"    # wrong answer
    TLE = "TLE"  # time limit exceeded (CPU or wall clock)
    MLE = "MLE"  # memory limit exceeded
    RE = "RE"    # runtime error (non-zero exit, signal, exception)
    CE = "CE"    # compilation error
    OLE = "OLE"  # output limit exceeded
    SE = "SE"    # system error (judge / checker failure, not the solution's fault)

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.value


# Worst first: the verdict of a solution is the verdict of its worst test.
VERDICT_SEVERITY = {
    Verdict.SE: 7, Verdict.CE: 6, Verdict.RE: 5, Verdict.MLE: 4, Verdict.TLE: 3,
    Verdict.OLE: 2, Verdict.WA: 1, Verdict.AC: 0,
}


@dataclass(frozen=True)
class Limits:
    """Per-test limits.  Every test of a batch gets all of them afresh."""
    time_s: float = 2.0            # CPU seconds (measured; RLIMIT_CPU backs it up)
    wall_s: float | None = None    # wall clock; default 2 * time_s + 1
    memory_mb: int = 512           # RLIMIT_AS (address space) of the program
    stack_mb: int = 64             # RLIMIT_STACK (also the default thread stack size)
    output_bytes: int = 16 << 20   # stdout cap -> OLE
    stderr_bytes: int = 64 << 10   # stderr is truncated silently
    processes: int = 32            # RLIMIT_NPROC (threads count too)
    file_size_mb: int = 16         # RLIMIT_FSIZE: largest file the program may write
    open_files: int = 64           # RLIMIT_NOFILE

    @property
    def effective_wall_s(self) -> float:
        return self.wall_s if self.wall_s is not None else 2 * self.time_s + 1

    def to_driver(self, nproc_extra: int = 0) -> dict:
        return {
            "time_s": float(self.time_s),
            "cpu_s": max(1, int(math.ceil(self.time_s))),   # SIGXCPU at the limit
            "wall_s": float(self.effective_wall_s),
            "as_bytes": int(self.memory_mb) << 20,
            "stack_bytes": min(int(self.stack_mb), int(self.memory_mb)) << 20,
            "fsize_bytes": int(self.file_size_mb) << 20,
            "nofile": int(self.open_files),
            "nproc": (int(self.processes) + nproc_extra) if self.processes else None,
            "output_bytes": int(self.output_bytes),
            "stderr_bytes": int(self.stderr_bytes),
        }


@dataclass
class RunResult:
    """Raw outcome of one program run (before comparison with an expected output)."""
    status: str                    # "OK" (exit 0), "RE", "TLE", "MLE", "OLE", "SE"
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    signal: int | None = None
    time_wall: float = 0.0
    time_cpu: float = 0.0
    # CPU the test's process spent in earlier tests of the same solution (one process runs
    # a solution's tests while they end clean): counted against the time limit with time_cpu
    carried_cpu: float = 0.0
    memory_kb: int = 0
    isolation: str = "bubblewrap"
    resource_limits: str = "rlimits-only"   # how memory/pids/CPU were limited: cgroup-v1|cgroup-v2|rlimits-only
    value: object = None           # functional mode: decoded JSON return value
    value_text: str | None = None  # functional mode: str() of the return value
    message: str = ""


@dataclass
class TestResult:
    __test__ = False   # not a pytest class
    index: int
    verdict: Verdict
    time_wall: float = 0.0
    time_cpu: float = 0.0
    carried_cpu: float = 0.0       # see RunResult.carried_cpu
    memory_kb: int = 0
    diff: str = ""                 # first difference, truncated ("" when AC)
    stderr: str = ""               # truncated
    exit_code: int | None = None
    signal: int | None = None
    isolation: str = "bubblewrap"
    resource_limits: str = "rlimits-only"
    stdout_sha256: str = ""        # the output is never kept whole: its hash and a prefix
    stdout_prefix: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["verdict"] = self.verdict.value
        return d


@dataclass
class JudgeReport:
    verdict: Verdict
    tests: list[TestResult] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    max_time_wall: float = 0.0
    max_time_cpu: float = 0.0
    max_memory_kb: int = 0
    isolation: str = "bubblewrap"
    compile_output: str = ""
    language: str = ""
    resource_limits: str = "rlimits-only"   # cgroup-v1 | cgroup-v2 | rlimits-only (per solution or per process)
    seccomp: bool = False

    @property
    def passed(self) -> int:
        return self.counts.get("AC", 0)

    @property
    def total(self) -> int:
        return len(self.tests)

    @classmethod
    def from_tests(cls, tests: list[TestResult], *, isolation: str, language: str = "",
                   compile_output: str = "", resource_limits: str = "rlimits-only",
                   seccomp: bool = False) -> "JudgeReport":
        counts: dict[str, int] = {}
        for t in tests:
            counts[t.verdict.value] = counts.get(t.verdict.value, 0) + 1
        worst = max((t.verdict for t in tests), key=VERDICT_SEVERITY.__getitem__,
                    default=Verdict.AC)
        return cls(
            verdict=worst, tests=tests, counts=counts,
            max_time_wall=max((t.time_wall for t in tests), default=0.0),
            max_time_cpu=max((t.time_cpu for t in tests), default=0.0),
            max_memory_kb=max((t.memory_kb for t in tests), default=0),
            isolation=isolation, language=language, compile_output=compile_output,
            resource_limits=resource_limits, seccomp=seccomp,
        )

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict.value, "counts": dict(self.counts),
            "max_time_wall": self.max_time_wall, "max_time_cpu": self.max_time_cpu,
            "max_memory_kb": self.max_memory_kb, "isolation": self.isolation,
            "language": self.language, "compile_output": self.compile_output,
            "resource_limits": self.resource_limits, "seccomp": self.seccomp,
            "tests": [t.to_dict() for t in self.tests],
        }
