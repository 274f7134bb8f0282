"""verl: `python -m verl.trainer.main_ppo` with Hydra overrides (verl 0.9, `ppo_trainer` config).

Keys from verl's docs (docs/algo/grpo.md, docs/algo/dapo.md, the file logger in
verl/utils/tracking.py). verl checks no types, so `params_normalize` did; where verl is installed,
`compose_check` also composes verl's own packaged config with these overrides.
"""
from __future__ import annotations

from . import LaunchContext

_LOSS_AGG = {"grpo": "token-mean", "dapo": "token-mean", "dr_grpo": "seq-mean-token-sum-norm"}


def overrides(ctx: LaunchContext) -> list[str]:
    p = ctx.params
    out = [
        f"data.train_files={ctx.train_file}",
        f"data.val_files={ctx.val_file or ctx.train_file}",
        f"data.train_batch_size={p['train_batch_size']}",
        f"data.max_prompt_length={p['max_prompt_length']}",
        f"data.max_response_length={p['max_response_length']}",
        "data.filter_overlong_prompts=True",
        f"actor_rollout_ref.model.path={ctx.base_model}",
        f"actor_rollout_ref.actor.optim.lr={p['learning_rate']}",
        f"actor_rollout_ref.actor.ppo_mini_batch_size={p['mini_batch_size']}",
        f"actor_rollout_ref.actor.clip_ratio_low={p['clip_ratio_low']}",
        f"actor_rollout_ref.actor.clip_ratio_high={p['clip_ratio_high']}",
        f"actor_rollout_ref.actor.loss_agg_mode={_LOSS_AGG[ctx.algorithm]}",
        f"actor_rollout_ref.actor.use_kl_loss={p['kl_coef'] > 0}",
        f"actor_rollout_ref.actor.kl_loss_coef={p['kl_coef']}",
        f"actor_rollout_ref.actor.entropy_coeff={p['entropy_coeff']}",
        f"actor_rollout_ref.rollout.n={p['group_size']}",
        f"actor_rollout_ref.rollout.temperature={p['temperature']}",
        f"actor_rollout_ref.rollout.top_p={p['top_p']}",
        "algorithm.adv_estimator=grpo",
        "algorithm.use_kl_in_reward=False",
        f"algorithm.norm_adv_by_std_in_grpo={ctx.algorithm != 'dr_grpo'}",
        # verl 0.9 reads reward.custom_reward_function; the top-level key is the legacy one.
        f"reward.custom_reward_function.path={ctx.repo_root}/training_jobs/reward.py",
        "reward.custom_reward_function.name=compute_score",
        f"custom_reward_function.path={ctx.repo_root}/training_jobs/reward.py",
        "custom_reward_function.name=compute_score",
        "trainer.logger=[console,file]",
        "trainer.project_name=microcoder",
        f"trainer.experiment_name={ctx.run_label or 'run'}",
        f"trainer.total_training_steps={p['total_steps']}",
        f"trainer.save_freq={p['save_every']}",
        f"trainer.test_freq={p['val_every']}",
        f"trainer.default_local_dir={ctx.output_dir}",
        "trainer.resume_mode=auto",
        f"trainer.n_gpus_per_node={p['n_gpus_per_node']}",
        f"trainer.nnodes={p['nnodes']}",
        "trainer.val_before_train=True",
    ]
    if ctx.algorithm == "dapo" and p["dynamic_sampling"]:
        # DAPO dynamic sampling: drop groups whose accuracy is all 0 or all 1, refill the batch.
        out += ["algorithm.filter_groups.enable=True", "algorithm.filter_groups.metric=acc",
                "algorithm.filter_groups.max_num_gen_batches=10"]
    if p["overlong_buffer"]:
        # DAPO's soft overlong penalty lives in the dapo reward manager's kwargs (new keys: "+").
        out += ["reward.reward_manager.name=dapo",
                "+reward.reward_kwargs.overlong_buffer_cfg.enable=True",
                f"+reward.reward_kwargs.overlong_buffer_cfg.len={p['overlong_buffer']}",
                "+reward.reward_kwargs.overlong_buffer_cfg.penalty_factor=1.0",
                f"+reward.reward_kwargs.max_resp_len={p['max_response_length']}"]
    if ctx.resume_from:
        out += ["trainer.resume_mode=resume_path", f"trainer.resume_from_path={ctx.resume_from}"]
        out.remove("trainer.resume_mode=auto")
    return out


def compose_check(override_list: list[str]) -> dict:
    """Compose verl's packaged `ppo_trainer` config with the overrides; raises (hydra's errors) on
    an unknown key or a value of the wrong shape, returns the composed config as a dict.
    Needs verl's package files and hydra-core, not verl's heavy imports: run it where they are."""
    import importlib.util
    import os

    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    spec = importlib.util.find_spec("verl")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("verl is not installed here")
    config_dir = os.path.join(list(spec.submodule_search_locations)[0], "trainer", "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        config = compose(config_name="ppo_trainer", overrides=override_list)
    return OmegaConf.to_container(config, resolve=False)


if __name__ == "__main__":  # python -m training_jobs.specs.verl OVERRIDE...  (in the training env)
    import json
    import sys

    composed = compose_check(sys.argv[1:])
    print(json.dumps({k: composed[k] for k in ("algorithm", "trainer", "reward")}, default=str))
