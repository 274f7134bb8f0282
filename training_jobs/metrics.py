"""Metric files of training engines, read by byte offset as they grow. Pure Python.

Both engines write one JSON object per line, `{"step": N, "data": {name: value, ...}}`: verl's
file logger (`trainer.logger=[console,file]`, `VERL_FILE_LOGGER_PATH`) and our TRL entry point's
callback. `read_new` returns the rows appended since the last call:
- only whole lines are consumed; a partial last line waits for the next call;
- a file that shrank or was replaced (other inode) is read again from the start: verl truncates
  its file when a restarted process reopens it;
- a bad line is counted and skipped, the rest goes on;
- TRL's final summary row repeats the last step with other keys (train_runtime, ...): rows are
  points keyed by (name, step), so repeats are updates, not duplicates.
"""
from __future__ import annotations

import json
import math
import os
import re
from functools import lru_cache
from dataclasses import dataclass, field

# One canonical name per quantity, whichever engine logged it.
CANONICAL: dict[str, str] = {
    # reward
    "critic/score/mean": "reward_mean", "reward": "reward_mean",
    "critic/score/std": "reward_std", "reward_std": "reward_std",
    "critic/rewards/mean": "reward_mean_shaped",
    # response length and truncation
    "response_length/mean": "response_length", "completions/mean_length": "response_length",
    "response_length/clip_ratio": "truncated_ratio", "completions/clipped_ratio": "truncated_ratio",
    # policy
    "actor/entropy": "entropy", "entropy": "entropy",
    "actor/pg_clipfrac": "clip_ratio", "clip_ratio/region_mean": "clip_ratio",
    "actor/ppo_kl": "kl", "kl": "kl", "actor/kl_loss": "kl_loss",
    "actor/grad_norm": "grad_norm", "grad_norm": "grad_norm",
    "actor/pg_loss": "loss", "loss": "loss",
    "actor/lr": "learning_rate", "learning_rate": "learning_rate",
    # time and groups
    "timing_s/step": "step_time", "perf/time_per_step": "step_time", "step_time": "step_time",
    "frac_reward_zero_std": "frac_reward_zero_std",
}
# verl's validation metrics per data source: val-core/<data_source>/acc/mean@N (and reward/...).
# The validation export names its sources <benchmark>/<difficulty>, so this is pass@1 by difficulty.
_VAL = re.compile(r"^val-(?:core|aux)/(?P<source>.+)/(?P<what>acc|reward|score)/mean@(?P<n>\d+)$")
# Headline series shown first on the run page.
HEADLINE = ("reward_mean", "response_length", "truncated_ratio", "entropy", "clip_ratio", "kl", "grad_norm")


@lru_cache(maxsize=4096)
def canonical_key(raw: str) -> str:
    if raw in CANONICAL:
        return CANONICAL[raw]
    match = _VAL.match(raw)
    if match:
        difficulty = match["source"].rsplit("/", 1)[-1]
        return f"val_pass@1/{difficulty}" if match["what"] == "acc" else f"val_reward/{difficulty}"
    return raw


@dataclass(slots=True)
class MetricRow:
    step: int
    raw_key: str
    key: str
    value: float


@dataclass
class ReadResult:
    rows: list[MetricRow] = field(default_factory=list)
    offset: int = 0
    inode: int | None = None
    bad_lines: int = 0
    restarted: bool = False  # the file was truncated or replaced since the last read


def parse_line(line: bytes | str) -> list[MetricRow]:
    """One JSONL row → metric rows; raises ValueError when the line is not a metrics row."""
    obj = json.loads(line)
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), dict):
        raise ValueError("expected {step, data}")
    step = obj.get("step")
    if isinstance(step, bool) or not isinstance(step, (int, float)):
        raise ValueError("step must be a number")
    step = int(step)
    isfinite = math.isfinite
    # bool is an int: excluded; strings, lists and NaN are not plottable points.
    return [MetricRow(step, raw[:200], canonical_key(raw)[:200], float(value))
            for raw, value in obj["data"].items()
            if type(value) in (float, int) and isfinite(value)]


def read_new(path: str, offset: int = 0, inode: int | None = None, *, max_bytes: int = 8 << 20) -> ReadResult:
    """Rows appended to `path` since byte `offset` (of the file with `inode`), at most `max_bytes`
    per call: memory stays bounded however large the file; the next call goes on from `offset`."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return ReadResult(offset=offset, inode=inode)
    restarted = False
    if (inode is not None and st.st_ino != inode) or st.st_size < offset:
        offset, restarted = 0, True
    result = ReadResult(offset=offset, inode=st.st_ino, restarted=restarted)
    if st.st_size == offset:
        return result
    with open(path, "rb") as fh:
        fh.seek(offset)
        chunk = fh.read(min(max_bytes, st.st_size - offset))
    end = chunk.rfind(b"\n")
    if end < 0:
        return result  # only a partial line so far
    for line in chunk[: end + 1].splitlines():
        if not line.strip():
            continue
        try:
            result.rows.extend(parse_line(line))
        except ValueError:
            result.bad_lines += 1
    result.offset = offset + end + 1
    return result


def downsample(points: list[tuple[int, float]], limit: int = 500) -> list[tuple[int, float]]:
    """At most `limit` points, evenly strided, always keeping the last one."""
    if len(points) <= limit:
        return points
    stride = math.ceil(len(points) / limit)
    out = points[::stride]
    if out[-1] != points[-1]:
        out.append(points[-1])
    return out
