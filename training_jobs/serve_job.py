"""The serving job's entry point: serve one checkpoint over the OpenAI protocol with
`transformers serve`, on a free port of whatever node the executor placed the job on.

    python -m training_jobs.serve_job --checkpoint DIR --job-dir DIR [--bind 127.0.0.1] [--device cpu]

The model is the checkpoint folder, or verl's `actor/huggingface` inside it (`model_folder`); the
server is pinned to it and answers requests for that name only, so `endpoint.json` says it.
The port can only be chosen on the node itself (Ray and Slurm pick the node), so this script picks
it, writes `endpoint.json` ({"base_url": "http://HOST:PORT/v1", "health_url": ...}) to the job
folder — shared storage the web app reads, like the metrics file of a training job — and then
execs the server, so cancelling the job (process group, scancel, Ray stop) stops the server.
Pure Python, no Django: it runs in the training environment (`.venv-train`).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path


def free_port(bind: str) -> int:
    with socket.socket() as s:
        s.bind((bind, 0))
        return s.getsockname()[1]


def advertised_host(bind: str) -> str:
    # A wildcard bind is reached by the node's name; a specific address by itself.
    return socket.getfqdn() if bind in ("0.0.0.0", "::", "") else bind


def model_folder(checkpoint: Path) -> Path:
    """The Hugging Face model folder of a checkpoint: the folder itself (TRL's `checkpoint-N`, a
    `save_pretrained` folder), or verl's `global_step_N/actor/huggingface` when verl saved the
    weights there (`checkpoint.save_contents` with `hf_model`). Exits with the reason otherwise."""
    if (checkpoint / "config.json").exists():
        return checkpoint
    hf = checkpoint / "actor" / "huggingface"
    if (hf / "config.json").exists() and (any(hf.glob("*.safetensors")) or any(hf.glob("*.bin"))):
        return hf
    if (checkpoint / "actor").is_dir():
        sys.exit(f"serve_job: {checkpoint} is a verl FSDP checkpoint without Hugging Face weights: save with "
                 "checkpoint.save_contents including hf_model, or merge it first (python -m verl.model_merger "
                 f"merge --backend fsdp --local_dir {checkpoint}/actor --target_dir DIR) and evaluate DIR")
    # Fail fast with the reason in the job's log (the evaluation shows it) rather than letting
    # the server start and refuse every request.
    sys.exit(f"serve_job: {checkpoint} is not a Hugging Face model folder (no config.json)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--job-dir", required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--device", default="")
    parser.add_argument("--port", type=int, default=0, help="0: a free one")
    args = parser.parse_args(argv)

    checkpoint = model_folder(Path(args.checkpoint))
    port = args.port or free_port(args.bind)
    host = advertised_host(args.bind)
    job_dir = Path(args.job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    endpoint = {"base_url": f"http://{host}:{port}/v1", "health_url": f"http://{host}:{port}/health",
                "model": str(checkpoint), "pid": os.getpid()}
    tmp = job_dir / "endpoint.json.tmp"
    tmp.write_text(json.dumps(endpoint))
    os.replace(tmp, job_dir / "endpoint.json")
    server = Path(sys.executable).parent / "transformers"
    command = [str(server), "serve", "--host", args.bind, "--port", str(port)]
    if args.device:
        command += ["--device", args.device]
    command.append(str(checkpoint))
    print("serve_job:", " ".join(command), flush=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a checkpoint is local: never reach for the hub
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
