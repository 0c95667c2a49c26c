"""Checkpoints of a gradient meta-training run: save the whole loop, resume only the same run.

Every `meta_train.checkpoint_every` steps the loop's state (theta, Adam's state, the inner
networks and their ages, the generator, the history) is written atomically; a rerun with the
same inputs resumes from it and ends with the same theta, bit for bit on the CPU, as a run never
interrupted. A checkpoint of other inputs (another fingerprint), or one that is unreadable or
incomplete, is ignored with a warning: it costs the steps since the start, nothing else.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from metahebb.artifacts import save_torch
from metahebb.kcap_rnn import Network
from metahebb.params import KCapRNNParams, MetaParams, StabiliserParams
from metahebb.rules import Rule

if TYPE_CHECKING:
    from metahebb.outer.gradient import Loop

log = logging.getLogger("meta_train")
NETWORK_FIELDS = ("w_in", "w_rec", "w_out", "h")
KEYS = ("fingerprint", "step", "theta", "optimiser", "networks", "age", "generator", "history")


def fingerprint(
    data: dict[str, np.ndarray], rule: Rule, rnn: KCapRNNParams, stab: StabiliserParams, params: MetaParams
) -> str:
    """Hash of everything that decides a run's theta, so a checkpoint resumes only its own run."""
    h = hashlib.sha256()
    loop = {k: v for k, v in dataclasses.asdict(params).items() if k != "checkpoint_every"}
    h.update(repr((loop, dataclasses.asdict(rnn), dataclasses.asdict(stab), type(rule).__name__)).encode())
    for name, x in data.items():
        h.update(name.encode() + repr(x.shape).encode() + np.ascontiguousarray(x).tobytes())
    for name, t in rule.state_dict().items():
        h.update(name.encode() + t.detach().cpu().numpy().tobytes())
    return h.hexdigest()


def load_checkpoint(path: Path, key: str) -> dict | None:
    """The saved state at `path` if it belongs to the run `key`; None (a fresh start) otherwise."""
    if not path.exists():
        return None
    try:
        state = torch.load(path, weights_only=True)
    except Exception as err:  # an unreadable checkpoint costs the steps since the start, nothing else
        log.warning("%s: unreadable (%s); starting from step 0", path, type(err).__name__)
        return None
    if not isinstance(state, dict) or not all(k in state for k in KEYS):
        log.warning("%s: not a whole checkpoint (needs %s); starting from step 0", path, ", ".join(KEYS))
        return None
    if state.get("fingerprint") != key:
        log.warning("%s: from other params or data; starting from step 0", path)
        return None
    log.info("%s: resuming after step %d", path, state["step"])
    return state


def save(loop: Loop, path: str | Path, key: str) -> None:
    save_torch(
        path,
        {
            "fingerprint": key,
            "step": loop.step,
            "theta": {k: v.detach().cpu() for k, v in loop.rule.state_dict().items()},
            "optimiser": loop.optimiser.state_dict(),
            "networks": {f: getattr(loop.net, f).cpu() for f in NETWORK_FIELDS},
            "age": loop.age,
            "generator": loop.gen.get_state(),
            "history": loop.history,
        },
    )


def resume(loop: Loop, path: Path, key: str) -> None:
    """Put the loop where the checkpoint at `path` left it, if that checkpoint is this run's."""
    state = load_checkpoint(path, key)
    if state is None:
        return
    loop.rule.load_state_dict(state["theta"])
    loop.optimiser.load_state_dict(state["optimiser"])
    loop.net = Network(**state["networks"]).to(loop.device)
    loop.age = state["age"]
    loop.gen.set_state(state["generator"])
    loop.history = state["history"]
    loop.step = state["step"]
