"""The host programs the sandbox runs, and which of them are missing — so that a worker serving
the sandbox queue refuses to start with a clear message instead of judging every problem `error`.
Pure Python (no Django): the worker start-up hook and the image test both use it."""
from __future__ import annotations

import os

from .languages import CPP
from .sandbox import SandboxConfig


def host_programs(config: SandboxConfig) -> dict[str, str]:
    """What the judge executes on (or binds from) the host, by role."""
    programs = {
        "python": config.python_path,  # settings.JUDGE_PYTHON
        "c++ compiler": CPP.compile_argv[0],
    }
    if not config.allow_unsandboxed:
        programs["bubblewrap"] = config.resolved_bwrap() or "/usr/bin/bwrap"
    return programs


def host_programs_missing(config: SandboxConfig) -> list[str]:
    """One line per missing or non-executable program: role, path, and the setting or package."""
    hints = {
        "python": "set JUDGE_PYTHON to the system interpreter, or install python3",
        "c++ compiler": "install g++",
        "bubblewrap": "install bubblewrap (or JUDGE_ALLOW_UNSANDBOXED=1, rlimits only)",
    }
    return [
        f"{role} not found at {path} ({hints[role]})"
        for role, path in host_programs(config).items()
        if not (os.path.isfile(path) and os.access(path, os.X_OK))
    ]
