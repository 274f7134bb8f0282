"""TRL: our GRPOTrainer entry point (`training_jobs/specs/trl_grpo.py`) reads one JSON config,
written beside the attempt's metrics: what the launch form previews is exactly what runs."""
from __future__ import annotations

import json
import os

from . import LaunchContext

_LOSS = {"grpo": "grpo", "dapo": "dapo", "dr_grpo": "dr_grpo"}


def config(ctx: LaunchContext) -> dict:
    p = ctx.params
    return {
        "base_model": ctx.base_model,
        "train_file": ctx.train_file,
        "val_file": ctx.val_file,
        "output_dir": ctx.output_dir,
        "metrics_path": ctx.metrics_path,
        "resume_from": ctx.resume_from,
        "grpo": {
            "max_steps": p["total_steps"],
            "num_generations": p["group_size"],
            # TRL counts completions per device batch: prompts per update × group size.
            "per_device_train_batch_size": p["mini_batch_size"] * p["group_size"],
            "gradient_accumulation_steps": p["train_batch_size"] // p["mini_batch_size"],
            "temperature": p["temperature"],
            "top_p": p["top_p"],
            "max_completion_length": p["max_response_length"],
            "learning_rate": p["learning_rate"],
            "epsilon": p["clip_ratio_low"],
            "epsilon_high": p["clip_ratio_high"],
            "beta": p["kl_coef"],
            "loss_type": _LOSS[ctx.algorithm],
            "scale_rewards": "none" if ctx.algorithm == "dr_grpo" else "group",
            "save_steps": p["save_every"],
            "seed": p["seed"],
            "logging_steps": 1,
            "report_to": "none",
        },
    }


def config_path(ctx: LaunchContext) -> str:
    return os.path.join(os.path.dirname(ctx.metrics_path), "trl_config.json")


def write_config(ctx: LaunchContext) -> str:
    path = config_path(ctx)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(config(ctx), fh, indent=2, sort_keys=True)
    return path
