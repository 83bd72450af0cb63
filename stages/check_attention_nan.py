"""Reproduce the NaN that made padded-batch training of Qwen2.5 diverge: cuDNN's SDPA backward with a mask.

    python stages/check_attention_nan.py                      # synthetic tensors, every SDPA kernel
    python stages/check_attention_nan.py --preset qwen2.5-coder-1.5b   # also a real padded batch of the model

On H100/H200 with torch >= 2.11, scaled_dot_product_attention with an explicit attention mask (a padded
batch) runs cuDNN's kernel by default. Its backward returns NaN query gradients when the sequence length is
64 past a multiple of 128 and every score of a query row is very negative (log-sum-exp below about -88,
where exp() overflows float32) -- which Qwen2.5's "massive activation" heads produce (pytorch/pytorch#196678).
The flash and memory-efficient kernels are clean on the same inputs. medtune.attention.disable_cudnn_attention
is the project's workaround. Prints one line per case and writes --out as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def synthetic_case(length: int, kernel, head_dim: int = 64) -> int:
    """Non-finite query-gradient elements for one head whose scores are all about -120."""
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import sdpa_kernel

    gen = torch.Generator(device="cuda").manual_seed(0)
    shape = (1, 1, length, head_dim)
    q = torch.randn(shape, device="cuda", dtype=torch.bfloat16, generator=gen) * 0.1
    k = torch.randn(shape, device="cuda", dtype=torch.bfloat16, generator=gen) * 0.1
    v = torch.randn(shape, device="cuda", dtype=torch.bfloat16, generator=gen)
    q[..., 0] = 1.0
    k[..., 0] = -120 * math.sqrt(head_dim)  # q.k / sqrt(d) = -120 for every pair
    q, k, v = (t.requires_grad_() for t in (q, k, v))
    mask = torch.ones(length, length, dtype=torch.bool, device="cuda").tril()[None, None]
    with sdpa_kernel([kernel]):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        out.backward(torch.ones_like(out))
    return int((~torch.isfinite(q.grad)).sum())


def model_case(model, tokenizer, length: int, cudnn: bool) -> dict:
    """A real padded batch (bf16, SDPA): non-finite input gradients with cuDNN's kernel allowed or not."""
    import torch

    torch.backends.cuda.enable_cudnn_sdp(cudnn)
    texts = ["What are the symptoms of anemia? Anemia can make you feel tired and weak. " * 4,
             "How is high blood pressure treated? Lifestyle changes and medicines lower it. " * 12]
    batch = tokenizer(texts, return_tensors="pt", padding="max_length", max_length=length).to("cuda")
    embeds = model.get_input_embeddings()(batch.input_ids).detach().requires_grad_()
    labels = batch.input_ids.masked_fill(batch.attention_mask == 0, -100)
    loss = model(inputs_embeds=embeds, attention_mask=batch.attention_mask, labels=labels).loss
    loss.backward()
    return {"length": length, "cudnn": cudnn, "loss": float(loss),
            "non_finite_input_grads": int((~torch.isfinite(embeds.grad)).sum())}


def main(argv: list[str] | None = None) -> int:
    import torch
    from torch.nn.attention import SDPBackend

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", help="also run a real padded batch of this model preset")
    parser.add_argument("--lengths", type=int, nargs="+", default=[640, 704, 768, 832])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("error: needs a CUDA GPU (the kernel in question is cuDNN's)", file=sys.stderr)
        return 2
    result = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
              "cudnn": torch.backends.cudnn.version(), "synthetic": [], "model": []}
    for length in args.lengths:
        for kernel in (SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION):
            try:
                bad = synthetic_case(length, kernel)
            except RuntimeError as e:  # e.g. flash attention takes no explicit mask
                bad = f"not run: {str(e).splitlines()[0][:80]}"
            row = {"length": length, "kernel": kernel.name, "non_finite_grad_q": bad}
            result["synthetic"].append(row)
            print(f"synthetic L={length:5d} {kernel.name:20s} non-finite dQ elements: {bad}", flush=True)
    if args.preset:
        from medtune.models import load_model, load_tokenizer

        tokenizer = load_tokenizer(args.preset)
        model = load_model(args.preset, dtype=torch.bfloat16, attn_implementation="sdpa").cuda()
        model.requires_grad_(False)
        for length in (704, 768):
            for cudnn in (True, False):
                row = {"preset": args.preset, **model_case(model, tokenizer, length, cudnn)}
                result["model"].append(row)
                print(f"{args.preset} padded to {length}, cuDNN {'on ' if cudnn else 'off'}: loss {row['loss']:.4f}, "
                      f"non-finite input gradients: {row['non_finite_input_grads']}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
