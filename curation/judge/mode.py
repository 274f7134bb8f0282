"""How a judgement was limited: isolation, resource limits and seccomp, as one small dict.

Every JudgeReport says how its solution was confined (``isolation``: bubblewrap or rlimits-only;
``resource_limits``: cgroup-v1, cgroup-v2 or rlimits-only; ``seccomp``). The rows that persist
judgements keep that as a "judge mode" so a curator can tell a verdict reached under per-solution
limits from one where memory and CPU were limited per process only. A run judges many solutions;
it keeps the weakest mode it saw (the modes should never differ within a run, but if a worker
lost its cgroup or bubblewrap half-way, the run must not claim more than its weakest judgement had).

Pure Python, no Django: the services, the evaluation pipeline and the templates' helpers share it.
"""
from __future__ import annotations

import subprocess
import threading
from typing import Any

ISOLATION_BWRAP = "bubblewrap"
LIMITS_RLIMITS = "rlimits-only"

# Higher is stronger. Anything unknown ranks below everything known (the weakest wins).
_ISOLATION_RANK = {ISOLATION_BWRAP: 2, LIMITS_RLIMITS: 1}
_LIMITS_RANK = {"cgroup-v2": 3, "cgroup-v1": 2, LIMITS_RLIMITS: 1}


def report_mode(report: Any) -> dict:
    """The mode of one JudgeReport (or anything with the same three attributes)."""
    return {
        "isolation": str(getattr(report, "isolation", "") or ""),
        "resource_limits": str(getattr(report, "resource_limits", "") or ""),
        "seccomp": bool(getattr(report, "seccomp", False)),
    }


def _valid(mode: Any) -> bool:
    return isinstance(mode, dict) and bool(mode.get("isolation") or mode.get("resource_limits"))


def weakest(*modes: Any) -> dict:
    """The weakest of the given modes, field by field; {} when none is known. Empty or malformed
    entries (a run that judged nothing yet, a row from before modes were stored) are skipped."""
    known = [m for m in modes if _valid(m)]
    if not known:
        return {}
    return {
        "isolation": min((str(m.get("isolation") or "") for m in known),
                         key=lambda v: _ISOLATION_RANK.get(v, 0)),
        "resource_limits": min((str(m.get("resource_limits") or "") for m in known),
                               key=lambda v: _LIMITS_RANK.get(v, 0)),
        "seccomp": all(bool(m.get("seccomp")) for m in known),
    }


def describe(mode: Any) -> dict:
    """What a page shows for a mode: `parts`, each {text, warning, title}, in the order isolation ·
    limits · seccomp ("bubblewrap · cgroup-v1 · seccomp"), weak ones flagged as warnings; `label`
    their text joined; `weak` whether any is a warning. A field not recorded (None or "": rows
    from before the limits were stored) is left out rather than guessed."""
    if not isinstance(mode, dict):
        mode = {}
    isolation = str(mode.get("isolation") or "")
    limits = str(mode.get("resource_limits") or "")
    seccomp = mode.get("seccomp")
    parts = []
    if isolation == ISOLATION_BWRAP:
        parts.append({"text": isolation, "warning": False, "title": "each solution in its own bubblewrap namespaces"})
    elif isolation == "unavailable":
        parts.append({"text": "judge unavailable: bubblewrap unusable", "warning": True,
                      "title": "the judge refuses to run untrusted code here (JUDGE_ALLOW_UNSANDBOXED is off)"})
    elif isolation:
        parts.append({"text": "not sandboxed: rlimits only", "warning": True,
                      "title": f"isolation {isolation}: bubblewrap was unusable and JUDGE_ALLOW_UNSANDBOXED let the code run anyway"})
    if limits in ("cgroup-v1", "cgroup-v2"):
        parts.append({"text": limits, "warning": False,
                      "title": "memory, processes and CPU limited and measured per solution (all its processes together)"})
    elif limits:
        parts.append({"text": "rlimits only: memory/CPU limited per process, not per solution", "warning": True,
                      "title": f"resource limits {limits}: no writable cgroup hierarchy, so a solution's children each get the full limit"})
    if seccomp is True:
        parts.append({"text": "seccomp", "warning": False, "title": "system-call filter on (no ptrace, io_uring, bpf, mount, ...)"})
    elif seccomp is False:
        parts.append({"text": "no seccomp", "warning": True,
                      "title": "no system-call filter: python3-seccomp is missing or the filter is turned off"})
    return {"parts": parts, "label": " · ".join(p["text"] for p in parts),
            "weak": any(p["warning"] for p in parts), "known": bool(parts)}


# --- the current mode, probed cheaply -------------------------------------------------------

_seccomp_cache: dict[str, bool] = {}
_seccomp_lock = threading.Lock()


def _seccomp_available(python_path: str) -> bool:
    """Can the judge's Python build the filter? The driver installs it through python3-seccomp
    (``import seccomp``) and goes without when that import fails: probe exactly that (cached)."""
    with _seccomp_lock:
        if python_path not in _seccomp_cache:
            try:
                p = subprocess.run([python_path, "-I", "-c", "import seccomp"], capture_output=True, timeout=20)
                _seccomp_cache[python_path] = p.returncode == 0
            except (OSError, subprocess.SubprocessError):
                _seccomp_cache[python_path] = False
        return _seccomp_cache[python_path]


def probe(config: Any = None) -> dict:
    """The mode a judgement would get now in this process: bubblewrap's probe, the cgroup
    hierarchy the judge would use, whether seccomp can be installed. Each part is cached by the
    judge itself (bwrap_status, cgroups.detect) or here, so a second call costs nothing.
    Adds `error` (and isolation "unavailable") where the judge would refuse to run at all."""
    from . import cgroups
    from .sandbox import SandboxConfig, SandboxUnavailable, resolve_isolation

    config = config or SandboxConfig()
    mode: dict = {}
    try:
        mode["isolation"] = resolve_isolation(config)
    except SandboxUnavailable as exc:
        mode["isolation"] = "unavailable"
        mode["error"] = str(exc)
    mode["resource_limits"] = cgroups.detect()[0] if getattr(config, "cgroups", True) else LIMITS_RLIMITS
    mode["seccomp"] = bool(getattr(config, "seccomp", True)) and _seccomp_available(config.python_path)
    return mode
