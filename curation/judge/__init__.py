"""MicroCoder judge: sandboxed execution and verdicts (pure Python, no Django imports).

    from curation.judge import judge_solution, Limits, SandboxConfig
    report = judge_solution(code, "python3", [("1 2\n", "3\n")])
    report.verdict, report.counts, report.tests[0].time_cpu, report.isolation
    report.resource_limits    # cgroup-v1 | cgroup-v2 | rlimits-only

Sandboxes are kept warm per process and reused (``prewarm(config, n)`` starts some ahead,
``shutdown_pool()`` closes the idle ones); each solution still runs in namespaces of its own.
"""
from .compare import compare_output, compare_value, detect_float_tolerance, normalize_rule
from .judge import (LEETCODE_PRELUDE, TestCase, judge_solution, run_checker, run_program,
                    run_programs)
from .languages import LANGUAGES, Language, get_language, register
from .results import JudgeReport, Limits, RunResult, TestResult, Verdict
from .sandbox import (SandboxConfig, SandboxUnavailable, bwrap_status, prewarm,
                      resolve_isolation, shutdown_pool)
from .spec import JudgeSpec, JudgeSpecError

__all__ = [
    "judge_solution", "run_program", "run_programs", "run_checker", "TestCase",
    "LEETCODE_PRELUDE", "compare_output", "compare_value", "detect_float_tolerance",
    "normalize_rule", "LANGUAGES", "Language", "get_language", "register", "JudgeReport",
    "Limits", "RunResult", "TestResult", "Verdict", "SandboxConfig", "SandboxUnavailable",
    "bwrap_status", "resolve_isolation", "JudgeSpec", "JudgeSpecError", "prewarm",
    "shutdown_pool",
]
