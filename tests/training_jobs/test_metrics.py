"""The metrics reader: byte offsets, partial lines, truncation, replaced files, canonical names."""
import json
import os

from training_jobs.metrics import canonical_key, downsample, read_new


def line(step, **data):
    return json.dumps({"step": step, "data": data}) + "\n"


def test_reads_only_whole_lines_and_resumes_at_the_offset(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(line(1, reward=0.5) + '{"step": 2, "da')
    first = read_new(str(path))
    assert [(r.key, r.step, r.value) for r in first.rows] == [("reward_mean", 1, 0.5)]
    assert first.offset == len(line(1, reward=0.5))
    with path.open("a") as fh:
        fh.write('ta": {"reward": 0.75}}\n')
    second = read_new(str(path), first.offset, first.inode)
    assert [(r.step, r.value) for r in second.rows] == [(2, 0.75)]
    assert read_new(str(path), second.offset, second.inode).rows == []


def test_truncated_or_replaced_file_is_read_from_the_start(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(line(1, reward=0.1) + line(2, reward=0.2) + line(3, reward=0.3))
    done = read_new(str(path))
    # verl reopens its file on restart: truncated, then rewritten from step 1.
    path.write_text(line(1, reward=0.9))
    again = read_new(str(path), done.offset, done.inode)
    assert again.restarted and [(r.step, r.value) for r in again.rows] == [(1, 0.9)]
    replacement = tmp_path / "new.jsonl"
    replacement.write_text(line(1, reward=0.1) + line(2, reward=0.2) + line(3, reward=0.3) + line(4, reward=0.4))
    os.replace(replacement, path)
    third = read_new(str(path), again.offset, again.inode)
    assert third.restarted and [r.step for r in third.rows] == [1, 2, 3, 4]


def test_bad_lines_are_counted_and_skipped(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text("not json\n" + json.dumps({"step": "x", "data": {}}) + "\n" + line(5, loss=1.5, note="text")
                    + json.dumps({"step": 6, "data": {"loss": float("nan"), "grad_norm": 2}}) + "\n")
    result = read_new(str(path))
    assert result.bad_lines == 2
    assert [(r.key, r.step, r.value) for r in result.rows] == [("loss", 5, 1.5), ("grad_norm", 6, 2.0)]


def test_missing_file_keeps_the_cursor(tmp_path):
    result = read_new(str(tmp_path / "absent.jsonl"), 10, 7)
    assert result.rows == [] and result.offset == 10 and result.inode == 7


def test_one_canonical_name_per_quantity_across_engines():
    pairs = [("critic/score/mean", "reward"), ("response_length/mean", "completions/mean_length"),
             ("response_length/clip_ratio", "completions/clipped_ratio"), ("actor/entropy", "entropy"),
             ("actor/pg_clipfrac", "clip_ratio/region_mean"), ("actor/ppo_kl", "kl"), ("actor/grad_norm", "grad_norm")]
    for verl_name, trl_name in pairs:
        assert canonical_key(verl_name) == canonical_key(trl_name) != verl_name
    assert canonical_key("val-core/lcb-v6/hard/acc/mean@1") == "val_pass@1/hard"
    assert canonical_key("val-core/lcb-v6/easy/reward/mean@4") == "val_reward/easy"
    assert canonical_key("train_runtime") == "train_runtime"


def test_downsample_keeps_the_last_point():
    points = [(i, float(i)) for i in range(1001)]
    out = downsample(points, 100)
    assert len(out) <= 102 and out[0] == (0, 0.0) and out[-1] == (1000, 1000.0)
    assert downsample(points[:50], 100) == points[:50]
