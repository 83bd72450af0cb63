"""The training benchmark (stages/bench_train.py): its variants and its reports (speed-ups, MFU, multi-GPU scaling).

A report is a dict with the benchmark's settings and one row per train.py run (status ok or failed).
"""

from __future__ import annotations

from pathlib import Path

# name -> (what it is, overrides on top of the preset file). "default" is the preset file itself: the
# path `make train` takes. The others change only what their description says.
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "plain": ("plain baseline: a quarter of the batch x 4 accumulation steps, padded batches in random order, SDPA "
              "with PyTorch's default kernels, no Liger, peft's fp32 adapter inputs, the stock trainer loop (a typical notebook)",
              ["training.batch_size={quarter}", "training.grad_accum=4", "training.group_by_length=false",
               "training.padding_free=false", "model.attn_implementation=sdpa", "training.liger=false",
               "training.torch_compile=false", "lora.upcast_inputs=true", "training.lean_trainer=false"]),
    "default": ("the project's default path (the preset file as `make train` runs it)", []),
    "liger": ("default path + Liger's Triton RMSNorm/SwiGLU/RoPE kernels", ["training.liger=true"]),
    "padded-grouped": ("the previous default: padded batches of similar length (so other batches than plain's), "
                       "SDPA, Liger", ["training.padding_free=false", "training.group_by_length=true",
                                       "model.attn_implementation=sdpa"]),
    "compile": ("default path + torch.compile of each decoder layer (the first 10 steps, which compile, are "
                "not timed)", ["training.torch_compile=true", "training.throughput_skip_steps=10"]),
    "unsloth": ("unsloth backend (its own kernels instead of Liger), padded batches of similar length",
                ["training.backend=unsloth", "training.liger=false", "training.padding_free=false",
                 "training.group_by_length=true", "model.attn_implementation=sdpa"]),
    "qlora": ("default path on a 4-bit NF4 base (bitsandbytes)", ["training.method=qlora"]),
    "small-batches": ("default path in micro-batches of a quarter of the batch x 4 accumulation steps (the same "
                      "batches as plain: what a 24 GB card runs, see the *_24gb presets)",
                      ["training.batch_size={quarter}", "training.grad_accum=4"]),
    "varlen": ("default path with padding-free batches and the varlen Flash Attention kernel (what the GPU preset "
               "of the embedded model sets; the same batches for any number of GPUs)",
               ["training.padding_free=true", "model.attn_implementation=varlen"]),
}
# What the 2-GPU run is measured against (issue 17): tokens/s scaling at an equal validation loss.
SCALING_TARGET, LOSS_GAP_TARGET = 1.8, 0.01
# Dense bf16 peak of the GPUs this is likely run on (vendor figures, no sparsity).
PEAK_BF16_FLOPS = {"H100 PCIe": 756e12, "H100": 989.4e12, "H200": 989.4e12, "A100": 312e12, "L40S": 362e12,
                   "A10": 125e12, "L4": 121e12, "RTX 4090": 165e12, "RTX 3090": 71e12}


def peak_flops(device: str) -> float | None:
    for name, flops in PEAK_BF16_FLOPS.items():  # the more specific names come first
        if name in device:
            return flops
    return None


def parameter_count(model_dir: str) -> int:
    """Parameters of the unquantized base checkpoint, read from the safetensors headers."""
    from safetensors import safe_open

    total = 0
    for path in sorted(Path(model_dir).glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as f:
            for key in f.keys():
                n = 1
                for dim in f.get_slice(key).get_shape():
                    n *= dim
                total += n
    return total


def add_ratios(report: dict) -> None:
    """Speed-up over the plain baseline, MFU, and the validation-loss gap to the baseline."""
    rows = {r["variant"]: r for r in report["results"] if r["status"] == "ok"}
    plain = rows.get("plain")
    peak = peak_flops(report["device"])
    for r in rows.values():
        r["mfu"] = round(6 * report["parameters"] * r["tokens_per_s"] / peak, 4) if peak and r["tokens_per_s"] else None
        if plain and plain["tokens_per_s"] and r["tokens_per_s"]:
            r["speedup_vs_plain"] = round(r["tokens_per_s"] / plain["tokens_per_s"], 2)
            r["val_loss_vs_plain"] = round(r["eval_loss_final"] / plain["eval_loss_final"] - 1, 4)


def markdown(report: dict) -> str:
    lines = heading(report, "Training throughput on") + [
             f"Every variant: the same {report['train_samples']} training conversations, {report['steps']} "
             f"optimizer steps of {report['effective_batch']} conversations, the same learning rate and seed. "
             "tokens/s counts real (non-padding) tokens over the optimizer steps alone (warm-up, evaluations "
             f"and checkpoints left out); MFU = 6 x {report['parameters'] / 1e6:.1f}M parameters x tokens/s / "
             f"{(peak_flops(report['device']) or float('nan')) / 1e12:.0f} TFLOP/s dense bf16. The validation "
             "loss is measured on the same held-out conversations with the same batches for every variant.", "",
             "| variant | status | tokens/s | speed-up vs plain | MFU | peak GPU alloc (GiB) | val loss before "
             "| val loss after | vs plain | measured steps |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        if r["status"] == "ok":
            mfu = f"{100 * r['mfu']:.1f}%" if r.get("mfu") is not None else ""
            lines.append(f"| {r['variant']} | ok | {r['tokens_per_s']:,.0f} | {r.get('speedup_vs_plain', '')}x | "
                         f"{mfu} | {r['peak_gpu_allocated_gib']:.2f} | {r['eval_loss_initial']:.4f} | "
                         f"{r['eval_loss_final']:.4f} | {100 * r.get('val_loss_vs_plain', 0):+.2f}% | "
                         f"{r['throughput']['measured_steps']} |")
        else:
            lines.append(f"| {r['variant']} | failed | | | | | | | | |")
    return ending(report, lines, [f"- **{r['variant']}**: {r['description']}" for r in report["results"]])


def heading(report: dict, title: str) -> list[str]:
    """The top of every bench report: the title with the model and device, then the command that made it."""
    return [f"# {title} {report['preset']} ({report['device']})", "", f"Produced by `{report['command']}`.", ""]


def ending(report: dict, lines: list[str], variants: list[str]) -> str:
    """Every bench report: `lines` (heading and table), the variants described, each failed run's error, then
    the library versions."""
    lines = [*lines, "", "Variants:", "", *variants]
    for r in report["results"]:
        if r["status"] != "ok":
            lines += ["", f"## {r['variant']} failed", "", "```", r["error"], "```"]
    return "\n".join(lines + ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()), ""])


def add_scaling(report: dict) -> None:
    """Each run's tokens/s over the same variant's on 1 GPU, its validation-loss gap to it, and the target."""
    rows = [r for r in report["results"] if r["status"] == "ok"]
    one_gpu = {r["name"]: r for r in rows if r["gpus"] == 1}
    for r in rows:
        one = one_gpu.get(r["name"])
        if not (one and one["tokens_per_s"] and r["tokens_per_s"]):
            continue
        r["scaling_vs_1gpu"] = round(r["tokens_per_s"] / one["tokens_per_s"], 2)
        r["val_loss_vs_1gpu"] = round(r["eval_loss_final"] / one["eval_loss_final"] - 1, 4)
        if r["gpus"] > 1:
            r["meets_target"] = (r["scaling_vs_1gpu"] >= SCALING_TARGET / 2 * r["gpus"]
                                 and abs(r["val_loss_vs_1gpu"]) <= LOSS_GAP_TARGET)


def multigpu_markdown(report: dict) -> str:
    lines = heading(report, "Training on several GPUs:") + [
             f"Every run: the same {report['train_samples']} training conversations, {report['steps']} optimizer "
             f"steps of {report['effective_batch']} conversations (the global batch; per GPU: divided by the GPUs), "
             "the same learning rate and seed. Several GPUs: DDP through `accelerate launch` "
             "(stages/configs/accelerate/ddp.yaml), NCCL_NVLS_ENABLE=0. tokens/s counts the real tokens of all "
             "GPUs over the optimizer steps alone. Target: a scaling of at least "
             f"{SCALING_TARGET / 2:.1f} x the GPUs ({SCALING_TARGET}x on 2) at a validation loss within "
             f"{100 * LOSS_GAP_TARGET:.0f}% of 1 GPU's.", "",
             "| variant | GPUs | status | per-GPU batch | tokens/s | scaling vs 1 GPU | val loss before | val loss after "
             "| vs 1 GPU | target met |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        if r["status"] == "ok":
            scaling = f"{r['scaling_vs_1gpu']}x" if "scaling_vs_1gpu" in r else ""
            gap = f"{100 * r['val_loss_vs_1gpu']:+.2f}%" if "val_loss_vs_1gpu" in r else ""
            target = {True: "yes", False: "no"}.get(r.get("meets_target"), "")
            lines.append(f"| {r['name']} | {r['gpus']} | ok | {r['per_gpu_batch']} | {r['tokens_per_s']:,.0f} | "
                         f"{scaling} | {r['eval_loss_initial']:.4f} | {r['eval_loss_final']:.4f} | {gap} | {target} |")
        else:
            lines.append(f"| {r['name']} | {r['gpus']} | failed | {r['per_gpu_batch']} | | | | | | |")
    names = dict.fromkeys(r["name"] for r in report["results"])
    return ending(report, lines, [f"- **{name}**: {VARIANTS[name][0]}" for name in names])
