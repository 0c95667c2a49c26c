"""The per-sample baseline: the k-cap RNN, the `hebb` and `learned` rules and the stabilisers, written once
as plain loops over networks and samples.

This is the straightforward implementation the benchmarks compare the library against: one network and
one sample at a time, forward with plain matrix-vector products, and each rule's change of every synapse
of that network evaluated directly for that sample (the learned rule's MLP on every synapse's own
features, no table of firing patterns). Within one sample it is vectorised over synapses, as any sane
per-sample implementation is; a Python loop over synapses would be a strawman.

It reads the library only for definitions, not for speed: the rule's theta and step size, the target row
norms of the stabilisers, and the k-cap relaxation used by the meta-objective.
"""

from __future__ import annotations

import torch

from metahebb.kcap import relaxed_kcap
from metahebb.kcap_rnn import Network
from metahebb.objectives.reconstruction import ridge_loss
from metahebb.params import KCapRNNParams, MetaParams, StabiliserParams
from metahebb.rules import Rule
from metahebb.stabilisers import NORMALISED, row_norms

Weights = dict[str, torch.Tensor]  # "in", "rec", "out", "h" of one network


def split(net: Network) -> list[Weights]:
    """One weight dict per network of the population (copies)."""
    return [
        {
            "in": net.w_in[p].clone(),
            "rec": net.w_rec[p].clone(),
            "out": net.w_out[p].clone(),
            "h": net.h[p].clone(),
        }
        for p in range(net.h.shape[0])
    ]


def hard_kcap(v: torch.Tensor, k: int) -> torch.Tensor:
    """One vector's k largest entries set to 1, the rest to 0."""
    return torch.zeros_like(v).index_fill_(0, torch.topk(v.detach(), k).indices, 1.0)


def forward_one(w: Weights, x: torch.Tensor, rnn: KCapRNNParams, activation=hard_kcap):
    """One sample x (n,): the input with its bias, the states x_1..x_{T+1} (a list), the output."""
    x0 = torch.cat([x, x.new_ones(1)]) if rnn.bias else x
    state = activation(w["in"] @ x0 - w["h"][0], rnn.k)
    states = [state]
    for t in range(1, rnn.T + 1):
        state = activation(w["rec"] @ state - w["h"][t], rnn.k)
        states.append(state)
    output = w["out"] @ state
    if rnn.readout == "kcap":
        output = activation(output, max(1, round(x.shape[0] * rnn.k / rnn.m)))
    return x0, states, output


def _signals(x0, states, output, x) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """(pre history (S,J), post history (S,I)) of each matrix for one sample, as in `synapses_of`."""
    s = torch.stack(states)
    return {
        "in": (x0[None], s),
        "rec": (s[:-1], s[1:]),
        "out": (s[-1:], torch.stack([x - output, x])),
    }


def _paired(pre: torch.Tensor, post: torch.Tensor) -> torch.Tensor:
    """sum_s post_s pre_s^T for one sample."""
    steps = min(pre.shape[0], post.shape[0])
    return sum(torch.outer(post[s], pre[s]) for s in range(steps))


def _learned_one(rule: Rule, name: str, pre: torch.Tensor, post: torch.Tensor) -> torch.Tensor:
    """The learned rule's MLP on every synapse (i, j) of one sample: features [pre of j's field, post of i]."""
    mlp = rule.mlps[name]
    r = rule.neighbours
    n_pre = pre.shape[1]
    field = (torch.arange(n_pre)[:, None] + torch.arange(-r, r + 1)[None, :]) % n_pre  # (J, 2r+1)
    pre_feats = pre[:, field.to(pre.device)].permute(1, 2, 0).flatten(1)  # (J, (2r+1) S), neighbour-major
    post_feats = post.T  # (I, S)
    n_post_neurons, n_pre_neurons = post_feats.shape[0], pre_feats.shape[0]
    feats = torch.cat(
        [
            pre_feats[None].expand(n_post_neurons, -1, -1),
            post_feats[:, None].expand(-1, n_pre_neurons, -1),
        ],
        dim=-1,
    )  # (I, J, F): every synapse's own input vector
    f = torch.relu(feats @ mlp.w1.T + mlp.b1) @ mlp.w2 + mlp.b2
    out = rule.step(name) * rule.squash(f)
    return out + rule.base_lr * _paired(pre, post) if rule.base_lr else out


def sample_delta(rule_name: str, rule: Rule, x0, states, output, x) -> Weights:
    """The rule's change of every synapse for one sample (the batch update averages these)."""
    deltas = {}
    for name, (pre, post) in _signals(x0, states, output, x).items():
        if rule_name == "hebb":
            deltas[name] = rule.lr * _paired(pre, post)
        elif rule_name in ("learned", "learned_extended"):
            deltas[name] = _learned_one(rule, name, pre, post)
        else:
            raise ValueError(f"the baseline implements hebb and learned rules, not {rule_name!r}")
    return deltas


def apply_one(
    w: Weights, delta: Weights, rates: torch.Tensor, rnn: KCapRNNParams, stab: StabiliserParams
) -> Weights:
    """Clip, add, renormalise rows of one network, then move its thresholds by the firing `rates` (T+1,m)."""
    n = w["out"].shape[0]
    norms = row_norms(rnn, n)
    new = {}
    for name in ("in", "rec", "out"):
        d = delta[name]
        if stab.clip > 0:
            d = d.clamp(-stab.clip, stab.clip)
        v = w[name] + d
        if stab.normalise_rows and name in NORMALISED:
            v = v * (norms[name] / v.norm(dim=1, keepdim=True).clamp_min(1e-12))
        new[name] = v
    h = w["h"]
    if stab.homeostasis:
        h = h + stab.homeostasis_rate * (rates.detach() - rnn.k / rnn.m)
    new["h"] = h
    return new


def plastic_step_one(
    w: Weights,
    xs: torch.Tensor,
    rule_name: str,
    rule: Rule,
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    activation=hard_kcap,
) -> tuple[Weights, list[list[torch.Tensor]]]:
    """One network's update from a batch xs (B,n): a loop over samples, their changes averaged."""
    total, rates, all_states = None, None, []
    for x in xs:
        x0, states, output = forward_one(w, x, rnn, activation)
        d = sample_delta(rule_name, rule, x0, states, output, x)
        s = torch.stack(states)
        total = d if total is None else {k: total[k] + d[k] for k in d}
        rates = s if rates is None else rates + s
        all_states.append(states)
    batch = xs.shape[0]
    new = apply_one(w, {k: v / batch for k, v in total.items()}, rates / batch, rnn, stab)
    return new, all_states


def plastic_step(
    nets: list[Weights],
    x: torch.Tensor,
    rule_name: str,
    rule: Rule,
    rnn: KCapRNNParams,
    stab: StabiliserParams,
) -> list[Weights]:
    """The population's update from x (P,B,n): a loop over networks, each a loop over samples."""
    return [plastic_step_one(w, x[p], rule_name, rule, rnn, stab)[0] for p, w in enumerate(nets)]


def meta_loss(
    rule_name: str,
    rule: Rule,
    nets: list[Weights],
    batches: list[torch.Tensor],
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    params: MetaParams,
) -> torch.Tensor:
    """Per-network meta-loss (P,) after K = len(batches) - 1 rule updates, one network and sample at a time."""

    def relaxed(v: torch.Tensor, k: int) -> torch.Tensor:
        return relaxed_kcap(v, k, params.relaxation, params.temperature)

    losses = []
    for p, w in enumerate(nets):
        cur = w
        for i, x in enumerate(batches[:-1]):
            cur, _ = plastic_step_one(cur, x[p], rule_name, rule, rnn, stab, hard_kcap if i == 0 else relaxed)
        x = batches[-1][p]
        outs, codes = [], []
        for sample in x:
            _, states, output = forward_one(cur, sample, rnn, relaxed)
            outs.append(output)
            codes.append(torch.stack(states))
        out, code = torch.stack(outs), torch.stack(codes)  # (B,n), (B,T+1,m)
        loss = torch.zeros((), device=x.device)
        if params.objective in ("paper", "both"):
            loss = loss + ((out - x) ** 2).mean()
        if params.objective in ("ridge", "both"):
            # The ridge objective is a closed-form fit over the batch by definition: the library's own.
            loss = loss + ridge_loss(code[None, :, -1], x[None], params.ridge_lambda)[0]
        if params.collapse_penalty > 0:
            q = rnn.k / rnn.m
            rate = code.mean(dim=0)
            loss = loss + params.collapse_penalty * ((rate - q) ** 2).mean() / (q * (1 - q))
        losses.append(loss)
    return torch.stack(losses)
