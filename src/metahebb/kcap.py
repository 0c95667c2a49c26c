"""The k-cap activation `a_k` and the relaxations that let gradients pass through it.

`a_k(x)` sets the k largest entries of the last axis to 1 and the rest to 0. Its gradient is
zero almost everywhere, so meta-training uses a relaxation:

- `ste` (straight-through): the forward pass is the hard k-cap, the backward pass is that of
  the soft surrogate below. Inner networks see exactly the codes they will see at evaluation.
- `soft`: a sigmoid centred between the k-th and (k+1)-th largest entries, whose width is
  `temperature` times the spread of the entries (k-cap is scale invariant, so the surrogate is
  too). It approaches the hard k-cap as the temperature goes to 0.

Evaluation and frozen-rule training always use the hard k-cap.
"""

from __future__ import annotations

import torch

RELAXATIONS = ("ste", "soft")


def kcap(x: torch.Tensor, k: int) -> torch.Tensor:
    """Exactly k ones per row of the last axis; among equal entries the lowest index wins."""
    # The k-th largest entry is the cut (topk is 2-5x faster than a full sort). Without ties at
    # the cut, the entries at or above it are the k winners; with ties, the tied entries fill the
    # remaining places in index order: the same codes as a stable descending sort.
    x = x.detach()
    cut = torch.topk(x, k, dim=-1, sorted=False).values.amin(dim=-1, keepdim=True)
    if not x.is_cuda:  # the usual case, no ties at the cut: the comparison written as floats at once
        ones = torch.ge(x, cut, out=torch.empty_like(x))  # ~10x faster than a bool result then .to
        if bool((ones.sum(dim=-1) == k).all()):  # sums of 0/1, exact
            return ones
    keep = x >= cut
    # On CUDA the fix-up always runs: asking whether a row has ties would stall on a host sync.
    if x.is_cuda or not bool((keep.sum(dim=-1) == k).all()):
        above = x > cut
        tied = keep & ~above
        keep = above | (tied & (tied.cumsum(dim=-1) <= k - above.sum(dim=-1, keepdim=True)))
    return keep.to(x.dtype)


def _soft_kcap(x: torch.Tensor, k: int, temperature: float) -> torch.Tensor:
    top = torch.topk(x.detach(), k + 1, dim=-1).values if k < x.shape[-1] else None
    if top is None:
        return torch.ones_like(x)
    # The cut sits halfway between the k-th and (k+1)-th entries: the hard k-cap's boundary.
    cut = 0.5 * (top[..., k - 1 : k] + top[..., k : k + 1])
    width = temperature * x.detach().std(dim=-1, keepdim=True).clamp_min(1e-6)
    return torch.sigmoid((x - cut) / width)


def relaxed_kcap(x: torch.Tensor, k: int, mode: str = "ste", temperature: float = 0.5) -> torch.Tensor:
    """k-cap with a usable gradient: `ste` (hard forward, soft backward) or `soft`."""
    soft = _soft_kcap(x, k, temperature)
    if mode == "soft":
        return soft
    if mode == "ste":
        return kcap(x, k) + (soft - soft.detach())
    raise ValueError(f"unknown k-cap relaxation {mode!r}; accepted: {', '.join(RELAXATIONS)}")
