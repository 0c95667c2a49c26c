"""The inner loop's one step, shared by every loop in which a rule trains networks.

Frozen-rule training (`hebbian_train`), meta-training by gradient (`outer/gradient.py`) and
ES fitness (`outer/es.py`) all advance a network the same way: one pass on a batch, the rule's
update of every synapse (clipped, rows renormalised), then homeostasis. Only the k-cap differs:
meta-training's lookahead reads relaxed codes so the gradient flows through what the rule sees.
"""

from __future__ import annotations

import numpy as np
import torch

from metahebb.kcap import kcap
from metahebb.kcap_rnn import KCap, Network, Trace, forward
from metahebb.params import KCapRNNParams, StabiliserParams
from metahebb.rules import Rule, synapses_of
from metahebb.stabilisers import apply_update, update_thresholds


def standardise(x: np.ndarray, is_test: np.ndarray) -> np.ndarray:
    """z-score every input dimension with the training points' mean and spread.

    The bias input's weight only means something relative to the inputs' scale, so every loop
    (and meta-training, which the rules were trained in) sees standardised inputs.
    """
    mean, std = x[~is_test].mean(axis=0), x[~is_test].std(axis=0)
    return ((x - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)


def plastic_step(
    net: Network,
    x: torch.Tensor,
    rule: Rule,
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    activation: KCap = kcap,
) -> tuple[Network, Trace]:
    """One pass on the batch x (P,B,n), the rule's update of every synapse, then homeostasis.

    Returns a new network (the one given is never modified) and the pass's trace.
    """
    trace = forward(net, x, rnn, activation)
    if rule.changes_weights:
        net = apply_update(net, rule(synapses_of(net, trace, x)), rnn, stab)
    return update_thresholds(net, trace.states, rnn, stab), trace
