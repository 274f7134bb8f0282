"""Launch specs: verl's Hydra overrides and the TRL config, from the recipe."""
import json

from training_jobs.specs import LaunchContext, build_command, trl, verl
from training_jobs.specs.params import params_normalize


def ctx(framework="verl", algorithm="dapo", **params):
    return LaunchContext(framework=framework, algorithm=algorithm, base_model="Qwen/Qwen3-4B-Instruct-2507",
                         params=params_normalize(params, algorithm=algorithm), train_file="/d/train.parquet",
                         val_file="/d/validation.parquet", output_dir="/out/run-1/checkpoints",
                         metrics_path="/out/mc-1-a1/metrics.jsonl", repo_root="/srv/microcoder", python="/venv/bin/python")


def test_verl_command_carries_the_recipe_the_data_and_our_reward():
    argv, env = build_command(ctx())
    assert argv[:3] == ["/venv/bin/python", "-m", "verl.trainer.main_ppo"]
    overrides = dict(a.split("=", 1) for a in argv[3:])
    assert overrides["data.train_files"] == "/d/train.parquet" and overrides["data.val_files"] == "/d/validation.parquet"
    assert overrides["actor_rollout_ref.model.path"] == "Qwen/Qwen3-4B-Instruct-2507"
    assert overrides["algorithm.adv_estimator"] == "grpo"
    assert overrides["custom_reward_function.path"] == "/srv/microcoder/training_jobs/reward.py"
    assert overrides["custom_reward_function.name"] == "compute_score"
    assert overrides["trainer.logger"] == "[console,file]" and overrides["trainer.resume_mode"] == "auto"
    assert overrides["trainer.default_local_dir"] == "/out/run-1/checkpoints"
    assert overrides["actor_rollout_ref.rollout.temperature"] == "1.2"
    assert overrides["data.max_response_length"] == "8192" and overrides["data.train_batch_size"] == "64"
    assert overrides["actor_rollout_ref.actor.clip_ratio_high"] == "0.28"
    assert overrides["algorithm.filter_groups.enable"] == "True"
    assert env["VERL_FILE_LOGGER_PATH"] == "/out/mc-1-a1/metrics.jsonl" and env["PYTHONPATH"] == "/srv/microcoder"


def test_verl_algorithms_and_resume():
    dr = dict(a.split("=", 1) for a in verl.overrides(ctx(algorithm="dr_grpo")))
    assert dr["actor_rollout_ref.actor.loss_agg_mode"] == "seq-mean-token-sum-norm"
    assert dr["algorithm.norm_adv_by_std_in_grpo"] == "False" and "algorithm.filter_groups.enable" not in dr
    resumed = LaunchContext(**{**ctx().__dict__, "resume_from": "/out/run-1/checkpoints/global_step_50"})
    over = verl.overrides(resumed)
    assert "trainer.resume_mode=resume_path" in over and "trainer.resume_mode=auto" not in over


def test_trl_config_maps_the_recipe_to_grpo_config():
    c = ctx("trl", "dapo", train_batch_size=64, mini_batch_size=16, group_size=8)
    argv, _env = build_command(c)
    assert argv[1:3] == ["-m", "training_jobs.specs.trl_grpo"] and argv[-1] == "/out/mc-1-a1/trl_config.json"
    grpo = trl.config(c)["grpo"]
    assert grpo["num_generations"] == 8 and grpo["per_device_train_batch_size"] == 128
    assert grpo["gradient_accumulation_steps"] == 4 and grpo["loss_type"] == "dapo"
    assert (grpo["epsilon"], grpo["epsilon_high"], grpo["temperature"]) == (0.2, 0.28, 1.2)


def test_verl_overrides_compose_with_verls_own_config(train_python):
    """verl checks no types; its Hydra config at least knows every key. Composed in the training
    environment (verl's package and hydra live there, not in the web app's)."""
    import subprocess

    from django.conf import settings

    for algorithm in ("grpo", "dapo", "dr_grpo"):
        c = ctx(algorithm=algorithm, overlong_buffer=512)
        done = subprocess.run([train_python, "-m", "training_jobs.specs.verl", *verl.overrides(c)], capture_output=True,
                              text=True, timeout=120, cwd=settings.BASE_DIR)
        assert done.returncode == 0, done.stderr[-2000:]
        composed = json.loads(done.stdout)
        assert composed["algorithm"]["adv_estimator"] == "grpo"
        assert composed["trainer"]["default_local_dir"] == "/out/run-1/checkpoints"
        assert composed["reward"]["custom_reward_function"]["name"] == "compute_score"
        assert composed["reward"]["reward_kwargs"]["overlong_buffer_cfg"]["len"] == 512
    bad = subprocess.run([train_python, "-m", "training_jobs.specs.verl", "trainer.no_such_key=1"], capture_output=True,
                         text=True, timeout=120, cwd=settings.BASE_DIR)
    assert bad.returncode != 0 and "no_such_key" in bad.stderr
