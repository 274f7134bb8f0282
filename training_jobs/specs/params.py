"""Recipe hyper-parameters: one table of names, types, ranges and defaults, validated the same
way by the launch form, the API and the spec builders. Pure Python.

verl does not check the types of its Hydra overrides (a string where an int belongs fails deep
inside a worker, minutes later), so everything is checked here before a job is launched. The
defaults are the paper's (Scaling Data Difficulty, §5): Qwen3-4B-Instruct-2507, temperature 1.2,
responses up to 8192 tokens, 64 prompts per step, 300 steps, DAPO clip-higher and dynamic sampling.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_BASE_MODEL = "Qwen/Qwen3-4B-Instruct-2507"
# A randomly initialised Qwen2 of ~100k parameters built from a config in code: no download,
# trains on a CPU in seconds. For plumbing checks and CI, never for real runs.
TINY_RANDOM_MODEL = "tiny-random:qwen2"


class RecipeParamsError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Param:
    name: str
    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""


PARAMS: tuple[Param, ...] = (
    Param("total_steps", int, 300, 1, 100_000, help="optimizer steps"),
    Param("train_batch_size", int, 64, 1, 8192, help="prompts per step"),
    Param("group_size", int, 8, 2, 256, help="completions per prompt (GRPO group, verl rollout.n)"),
    Param("temperature", float, 1.2, 0.0, 2.0, help="rollout sampling temperature"),
    Param("top_p", float, 1.0, 0.01, 1.0),
    Param("max_prompt_length", int, 2048, 16, 131_072),
    Param("max_response_length", int, 8192, 8, 131_072),
    Param("learning_rate", float, 1e-6, 1e-9, 1e-2),
    Param("mini_batch_size", int, 16, 1, 8192, help="prompts per policy update (verl ppo_mini_batch_size)"),
    Param("clip_ratio_low", float, 0.2, 0.0, 1.0),
    Param("clip_ratio_high", float, 0.28, 0.0, 1.0, help="DAPO clip-higher; = low for plain GRPO"),
    Param("kl_coef", float, 0.0, 0.0, 10.0, help="KL loss coefficient (0 = no reference model)"),
    Param("entropy_coeff", float, 0.0, 0.0, 1.0),
    Param("dynamic_sampling", bool, True, help="DAPO: drop groups whose rewards are all equal"),
    Param("overlong_buffer", int, 0, 0, 131_072, help="DAPO soft overlong penalty window (tokens, 0 = off)"),
    Param("save_every", int, 50, 1, 100_000, help="checkpoint every N steps"),
    Param("val_every", int, 25, 1, 100_000, help="validate every N steps"),
    Param("reward_timeout_s", float, 30.0, 1.0, 600.0, help="hard deadline per completion"),
    Param("reward_workers", int, 8, 1, 256, help="completions judged at once"),
    Param("n_gpus_per_node", int, 8, 0, 64),
    Param("nnodes", int, 1, 1, 1024),
    Param("seed", int, 0, 0, 2**31 - 1),
)
PARAMS_BY_NAME = {p.name: p for p in PARAMS}

# What each algorithm changes from the defaults when the user does not say otherwise.
ALGORITHM_DEFAULTS: dict[str, dict[str, Any]] = {
    "grpo": {"clip_ratio_high": 0.2, "dynamic_sampling": False},
    "dapo": {"clip_ratio_high": 0.28, "dynamic_sampling": True},
    "dr_grpo": {"clip_ratio_high": 0.2, "dynamic_sampling": False},
}


def _coerce(param: Param, value: Any) -> Any:
    if param.kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "on", "yes", "false", "0", "off", "no", ""):
            return value.lower() in ("true", "1", "on", "yes")
        raise RecipeParamsError(param.name, f"expected true or false, got {value!r:.40}")
    if isinstance(value, bool):
        raise RecipeParamsError(param.name, f"expected a number, got {value!r}")
    try:
        if param.kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            number = int(value) if not isinstance(value, str) else int(value.strip())
        else:
            number = float(value)
    except (TypeError, ValueError):
        kind = "an integer" if param.kind is int else "a number"
        raise RecipeParamsError(param.name, f"expected {kind}, got {value!r:.40}") from None
    if number != number or (param.low is not None and number < param.low) or (
            param.high is not None and number > param.high):
        raise RecipeParamsError(param.name, f"must be between {param.low:g} and {param.high:g}, got {number!r}")
    return number


def params_normalize(params: dict[str, Any] | None, *, algorithm: str = "dapo") -> dict[str, Any]:
    """Defaults filled in, types coerced, ranges and cross-field rules checked; raises
    RecipeParamsError naming the field."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RecipeParamsError("params", "expected an object")
    if algorithm not in ALGORITHM_DEFAULTS:
        raise RecipeParamsError("algorithm", f"expected one of {', '.join(ALGORITHM_DEFAULTS)}")
    unknown = sorted(set(params) - set(PARAMS_BY_NAME))
    if unknown:
        raise RecipeParamsError(unknown[0], "unknown parameter")
    out: dict[str, Any] = {}
    for param in PARAMS:
        if param.name in params and params[param.name] not in (None, ""):
            out[param.name] = _coerce(param, params[param.name])
        else:
            out[param.name] = ALGORITHM_DEFAULTS[algorithm].get(param.name, param.default)
    if out["clip_ratio_high"] < out["clip_ratio_low"]:
        raise RecipeParamsError("clip_ratio_high", "must be at least clip_ratio_low")
    if out["mini_batch_size"] > out["train_batch_size"]:
        raise RecipeParamsError("mini_batch_size", "must not exceed train_batch_size")
    if out["train_batch_size"] % out["mini_batch_size"]:
        raise RecipeParamsError("mini_batch_size", "must divide train_batch_size")
    return out


def base_model_validate(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise RecipeParamsError("base_model", "expected a model name or path")
    name = name.strip()
    if len(name) > 500 or any(c in name for c in "\n\r\0 "):
        raise RecipeParamsError("base_model", "must be one line without spaces")
    return name
