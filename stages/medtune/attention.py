"""`attn_implementation: varlen`: attention for padding-free batches without padding and without masks.

With `training.padding_free=true` TRL concatenates a batch of conversations into one row, restarts
`position_ids` at every conversation and passes the boundaries (`cu_seq_lens_q`, `max_length_q`).
SDPA cannot use them (it would need a full T x T block mask), and the `flash_attention_2` package is a
separate CUDA build. PyTorch itself ships Flash Attention's variable-length kernel
(`torch.nn.attention.varlen.varlen_attn`, torch >= 2.10): each conversation attends causally to itself
alone, with no padding, no mask and no per-shape setup cost (on an H100, cuDNN's SDPA spent about 2.5 ms
of CPU per call on every new shape: `training.profile_steps`, README "Training throughput"). On the CPU, where that kernel does not exist, the
same function runs causal SDPA conversation by conversation: slow, but the same numbers, so the CPU tests
check the same code path.
"""

from __future__ import annotations

import inspect
import weakref

NAME = "varlen"


def register() -> str:
    """Make `attn_implementation="varlen"` known to transformers (idempotent); returns the name."""
    from transformers import AttentionInterface

    AttentionInterface.register(NAME, varlen_attention_forward)
    return NAME


# Every layer of one forward pass receives the same position_ids tensor: its bounds are derived once
# (one device-to-host sync per forward instead of two per layer). Held by weak reference, so a new
# batch, a new tensor, never meets stale bounds.
_bounds_of: tuple = (None, None)  # (weakref to position_ids, (cu_seqlens, longest))


def sequence_bounds(kwargs: dict, total: int, device):
    """(cu_seqlens int32 on `device`, longest sequence) from TRL's collator, else from position_ids."""
    import torch

    global _bounds_of
    cu, longest = kwargs.get("cu_seq_lens_q"), kwargs.get("max_length_q")
    if cu is not None:  # TRL >= 1.16 computes them on the CPU in the collator
        cu = cu.to(device=device, dtype=torch.int32)
        return cu, int(longest) if longest is not None else int(cu.diff().max())
    position_ids = kwargs.get("position_ids")
    if position_ids is None:  # one sequence (e.g. a batch of one)
        return torch.tensor([0, total], dtype=torch.int32, device=device), total
    ref, bounds = _bounds_of
    if ref is not None and ref() is position_ids:
        return bounds
    starts = (position_ids.reshape(-1) == 0).nonzero().flatten().to(torch.int32)
    cu = torch.cat([starts, torch.tensor([total], dtype=torch.int32, device=starts.device)]).to(device)
    bounds = (cu, int(cu.diff().max()))
    _bounds_of = (weakref.ref(position_ids), bounds)
    return bounds


def varlen_attention_forward(module, query, key, value, attention_mask=None, scaling=None, dropout=0.0, **kwargs):
    """transformers attention interface: query (1, heads, T, dim), key/value (1, kv_heads, T, dim)."""
    if query.shape[0] != 1:
        raise ValueError(f"attn_implementation={NAME} expects padding-free batches (one row, batch size 1), got "
                         f"batch size {query.shape[0]}: set training.padding_free=true")
    if dropout:
        raise ValueError(f"attn_implementation={NAME} does not implement attention dropout ({dropout})")
    total = query.shape[2]
    cu, longest = sequence_bounds(kwargs, total, query.device)
    q, k, v = (t[0].transpose(0, 1).contiguous() for t in (query, key, value))  # (T, heads, dim)
    if query.is_cuda:
        out = _flash_varlen(q, k, v, cu, longest, scaling)
    else:
        out = _sdpa_per_sequence(q, k, v, cu.tolist(), scaling)
    return out.unsqueeze(0), None  # (1, T, heads, dim)


def _flash_varlen(q, k, v, cu, longest: int, scaling):
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError as e:
        raise RuntimeError(f"attn_implementation={NAME} needs torch >= 2.10 (torch.nn.attention.varlen) on CUDA; "
                           "use model.attn_implementation=sdpa with padded batches") from e
    params = inspect.signature(varlen_attn).parameters
    kwargs = {}
    if "is_causal" in params:          # torch 2.10/2.11
        kwargs["is_causal"] = True
    else:                              # later releases: causal = a window of everything before, nothing after
        kwargs["window_size"] = (-1, 0)
    if q.shape[1] != k.shape[1]:       # grouped-query attention
        if "enable_gqa" in params:
            kwargs["enable_gqa"] = True
        else:
            group = q.shape[1] // k.shape[1]
            k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    if scaling is not None:
        if "scale" in params:
            kwargs["scale"] = scaling
        else:                          # the kernel's own scale is dim ** -0.5
            q = q * (scaling * q.shape[-1] ** 0.5)
    return varlen_attn(q, k, v, cu, cu, longest, longest, **kwargs)


def _sdpa_per_sequence(q, k, v, bounds: list[int], scaling):
    import torch
    import torch.nn.functional as F

    outs = []
    group = q.shape[1] // k.shape[1]
    for start, end in zip(bounds, bounds[1:]):
        qs, ks, vs = (t[start:end].transpose(0, 1) for t in (q, k, v))  # (heads, len, dim)
        if group > 1:
            ks, vs = ks.repeat_interleave(group, dim=0), vs.repeat_interleave(group, dim=0)
        outs.append(F.scaled_dot_product_attention(qs, ks, vs, is_causal=True, scale=scaling).transpose(0, 1))
    return torch.cat(outs, dim=0)


def disable_cudnn_attention() -> None:
    """Keep PyTorch's SDPA off the cuDNN kernel on CUDA.

    cuDNN's attention backward (the default SDPA backend for masked attention on H100/H200 since torch
    2.11) returns NaN query gradients when a padded batch's length is 64 past a multiple of 128 and a
    head's attention scores are all very negative, which Qwen2.5's "massive activation" heads produce
    (pytorch/pytorch#196678; `python stages/check_attention_nan.py` reproduces it). This is what made the
    padded path of the 1.5B preset diverge. Flash / memory-efficient SDPA are unaffected. Evaluation needs it
    off too: cuDNN builds a plan for every new input shape (about 2.5 ms of CPU per call), and every decoding
    step has a new key length.
    """
    import torch

    if torch.cuda.is_available():
        torch.backends.cuda.enable_cudnn_sdp(False)
