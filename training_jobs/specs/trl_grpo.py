"""The TRL GRPO entry point a "trl" run executes (in the training environment, `.[train]`):

    python -m training_jobs.specs.trl_grpo --config <attempt folder>/trl_config.json

Reads the snapshot's TRL export (Parquet: prompt messages + tests, io_format, function_name,
comparison columns), trains with TRL's GRPOTrainer and our sandboxed reward
(`training_jobs.reward.trl_reward`), writes every log row as verl-shaped JSONL
(`{"step": N, "data": {...}}`) to the attempt's metrics file, and checkpoints to the run's
output folder (`checkpoint-N`), resuming from `resume_from` when a retry says so.

`base_model = "tiny-random:qwen2"` builds a ~100k-parameter Qwen2 and a byte-level BPE tokenizer
from a config in code (no download): plumbing checks and CI on CPU, never real training.
The web app and workers never import this module (it imports torch).
"""
from __future__ import annotations

import argparse
import json
import os
import sys


def tiny_model_and_tokenizer(seed: int = 0):
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = ["def solve():\n    n = int(input())\n    print(n * 2)\n", "```python\nprint(sum(map(int, input().split())))\n```",
              "Read the input from standard input and write the answer.", "user assistant system"] * 25
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=special,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        bos_token=None, unk_token=None)
    tokenizer.chat_template = (
        "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                         max_position_embeddings=4096, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=None)
    return Qwen2ForCausalLM(config), tokenizer


def load_prompts(path: str, split: str | None = "train"):
    import pyarrow.parquet as pq
    from datasets import Dataset

    table = pq.read_table(path)
    rows = table.to_pylist()
    if split and any(r.get("split") == split for r in rows):
        rows = [r for r in rows if r.get("split") == split]
    keep = ("prompt", "tests", "io_format", "function_name", "comparison", "judge", "problem_key")
    return Dataset.from_list([{k: r[k] for k in keep if k in r} for r in rows])


def metrics_callback(path: str):
    from transformers import TrainerCallback

    class JsonlMetrics(TrainerCallback):
        """verl's file-logger shape, one line per log call, flushed at once (the app tails it)."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs:
                return
            data = {k: v for k, v in logs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"step": state.global_step, "data": data}) + "\n")

    return JsonlMetrics()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as fh:
        cfg = json.load(fh)

    import torch
    from trl import GRPOConfig, GRPOTrainer

    from training_jobs.reward import trl_reward

    grpo = dict(cfg["grpo"])
    on_gpu = torch.cuda.is_available()
    tiny = cfg["base_model"].startswith("tiny-random:")
    if tiny:
        model, tokenizer = tiny_model_and_tokenizer(grpo.get("seed", 0))
    else:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = AutoModelForCausalLM.from_pretrained(cfg["base_model"])
        tokenizer = AutoTokenizer.from_pretrained(cfg["base_model"])
    os.makedirs(os.path.dirname(cfg["metrics_path"]) or ".", exist_ok=True)
    training_args = GRPOConfig(
        output_dir=cfg["output_dir"], use_cpu=not on_gpu, bf16=on_gpu,
        save_strategy="steps", save_only_model=tiny, log_completions=False,
        **grpo,
    )
    trainer = GRPOTrainer(
        model=model, processing_class=tokenizer, reward_funcs=[trl_reward], args=training_args,
        train_dataset=load_prompts(cfg["train_file"]), callbacks=[metrics_callback(cfg["metrics_path"])],
    )
    trainer.train(resume_from_checkpoint=cfg.get("resume_from") or None)
    trainer.save_model(os.path.join(cfg["output_dir"], "final"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
