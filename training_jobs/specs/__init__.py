"""Launch specs: what command a run executes, built from the run's recipe and its snapshot's
exports. Pure Python (no Django); `training_jobs.services.launch` fills in a `LaunchContext`.

    ctx = LaunchContext(framework="verl", algorithm="dapo", base_model=..., params=params_normalize({}),
                        train_file=..., val_file=..., output_dir=..., metrics_path=..., ...)
    argv, env = build_command(ctx)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .params import RecipeParamsError, params_normalize  # noqa: F401 (re-exported)


@dataclass(frozen=True)
class LaunchContext:
    framework: str
    algorithm: str
    base_model: str
    params: dict
    train_file: str
    val_file: str
    output_dir: str          # checkpoints (shared by the run's attempts, for resume)
    metrics_path: str        # this attempt's JSONL metrics (a new file per attempt)
    repo_root: str           # the project checkout the job imports the reward from
    python: str = "python3"
    resume_from: str = ""
    run_label: str = ""
    extra_env: dict = field(default_factory=dict)


def build_command(ctx: LaunchContext) -> tuple[list[str], dict[str, str]]:
    from . import trl, verl

    if ctx.framework == "verl":
        argv = [ctx.python, "-m", "verl.trainer.main_ppo", *verl.overrides(ctx)]
    elif ctx.framework == "trl":
        argv = [ctx.python, "-m", "training_jobs.specs.trl_grpo", "--config", trl.config_path(ctx)]
    else:
        raise RecipeParamsError("framework", f"unknown framework {ctx.framework!r}")
    env = {
        "PYTHONPATH": ctx.repo_root,
        "MICROCODER_METRICS_PATH": ctx.metrics_path,
        "VERL_FILE_LOGGER_PATH": ctx.metrics_path,
        "MICROCODER_REWARD_DEADLINE_S": str(ctx.params["reward_timeout_s"]),
        "MICROCODER_REWARD_WORKERS": str(ctx.params["reward_workers"]),
        "PYTHONUNBUFFERED": "1",
        **{str(k): str(v) for k, v in ctx.extra_env.items()},
    }
    return argv, env
