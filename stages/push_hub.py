"""Upload an export to the Hugging Face hub: the GGUF files (default) or the merged model, with the model card.

    make push-hub HUB_REPO=your-name/medtune-smollm2 PUSH_ARGS=--dry-run     # list what would be uploaded
    make push-hub HUB_REPO=your-name/medtune-smollm2                         # needs HF_TOKEN (write access)
    python stages/push_hub.py --run my-run --repo your-name/medtune --what merged --private

`--what gguf` uploads README.md (the model card `make export` wrote), the Modelfile and gguf/ (GGUF files,
manifest.json, quant_check.json) with their paths, so `ollama create -f Modelfile` works from a download.
`--what merged` uploads the merged 16-bit model at the top of the repository (loadable with
from_pretrained) and the card. One commit either way.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from medtune.errors import StageError
from medtune.paths import artifacts_dir
from medtune.stage import logger, stage_main

GGUF_FILES = ("Modelfile", "gguf/*.gguf", "gguf/manifest.json", "gguf/quant_check.json")


class PushError(StageError):
    pass


log = logger("push-hub")


def upload_plan(run_dir: Path, what: str) -> list[tuple[Path, str]]:
    """(local file, path in the repository) for each file to upload, the model card first."""
    card = run_dir / "README.md"
    if not card.is_file():
        raise PushError(f"{card}: no model card; run `make export` first (it writes the card)")
    if what == "gguf":
        files = sorted({p for pattern in GGUF_FILES for p in run_dir.glob(pattern) if p.is_file()})
        if not any(p.suffix == ".gguf" for p in files):
            raise PushError(f"{run_dir / 'gguf'}: no GGUF files; run `make export` first")
        plan = [(p, p.relative_to(run_dir).as_posix()) for p in files]
    elif what == "merged":
        merged = run_dir / "merged"
        if not (merged / "config.json").is_file():
            raise PushError(f"{merged}: no merged model; run `make train` first")
        plan = [(p, p.relative_to(merged).as_posix()) for p in sorted(merged.rglob("*")) if p.is_file()]
    else:
        raise PushError(f"--what must be gguf or merged, got {what!r}")
    return [(card, "README.md"), *plan]


def push(repo: str, plan: list[tuple[Path, str]], token: str, private: bool, message: str) -> str:
    os.environ["HF_HUB_OFFLINE"] = "0"  # the one step that must reach the hub (medtune.stage sets offline for the rest)
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(token=token)
    api.create_repo(repo, repo_type="model", private=private, exist_ok=True)
    operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(local)) for local, path in plan]
    return api.create_commit(repo, operations, commit_message=message, repo_type="model").commit_url


@stage_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=os.environ.get("EXPORT_RUN", "smollm2-135m-lora-cpu"),
                        help="the export folder under artifacts/ (a run, or base-<preset>)")
    parser.add_argument("--repo", required=True, help="hub repository, <user or org>/<name>")
    parser.add_argument("--what", choices=["gguf", "merged"], default="gguf")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--dry-run", action="store_true", help="list what would be uploaded; needs no token")
    args = parser.parse_args(argv)
    if "/" not in args.repo:
        raise PushError(f"--repo {args.repo!r}: expected <user or org>/<name>")
    plan = upload_plan(artifacts_dir() / args.run, args.what)
    total = sum(local.stat().st_size for local, _ in plan)
    verb = "would upload" if args.dry_run else "uploading"
    log(f"{verb} {len(plan)} files ({total / 1e6:.1f} MB) to {args.repo}:")
    for local, path in plan:
        print(f"  {path}  ({local.stat().st_size / 1e6:.1f} MB)", flush=True)
    if args.dry_run:
        return 0
    token = os.environ.get("HF_TOKEN")
    if not token:
        raise PushError("HF_TOKEN is not set: create a token with write access at huggingface.co "
                        "(Settings > Access Tokens) and put HF_TOKEN=... in .env")
    url = push(args.repo, plan, token, args.private, f"medtune export of {args.run} ({args.what})")
    log(f"done: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
