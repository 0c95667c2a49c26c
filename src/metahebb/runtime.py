"""Process-wide settings a stage applies once, before any tensor work."""

from __future__ import annotations

import torch


def configure(threads: int, device: str = "auto") -> torch.device:
    """Set torch's thread count and pick the device.

    torch's default of one thread per core spin-waits badly on small shared machines
    (10-100x slower on 2 cores), so the thread count is a param, 1 by default.
    `auto` uses CUDA when present; CPU results are deterministic.
    """
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        from metahebb.params import ParamError

        raise ParamError("runtime.device='cuda': no CUDA device is present; use 'auto' or 'cpu'")
    return torch.device(device)


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch generator for one named random choice, so no code touches the global RNG."""
    return torch.Generator(device=device).manual_seed(seed)
