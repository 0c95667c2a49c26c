"""Semi-supervised readout (section 5.3): a classifier on frozen k-cap features, trained by a local rule.

The unsupervised network is fixed; its last state x_{T+1} (a binary code) plus a constant
neuron feeds C output neurons. A plasticity rule's M_out part trains the readout W (C, m+1)
with the signals it already knows from autoencoding, now under a cross-entropy teacher:

    pre_j  = code_j                        (binary, as for M_out)
    post_c = [y_c - p_c, y_c]              (error and target of output neuron c, p = softmax)

y_c - p_c is the cross-entropy error of neuron c's logit, so the signal is local to that
output neuron. `reuse` applies the unsupervised rule unchanged (the paper); `meta` meta-trains
the readout part of a fresh learned rule with the cross-entropy after its update, on the
labelled training points of the *other* datasets, so it never sees a label of the target.

Every network, seed and labelled draw trains as one population: no Python loop per sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from metahebb import kcap_rnn
from metahebb.classifiers import fit_and_score
from metahebb.metrics.svm import label_draws
from metahebb.params import SemiSupervisedParams
from metahebb.rules import Rule, Synapses
from metahebb.runtime import generator


def with_bias(codes: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Codes as float32 features with the constant neuron appended (the network's own `with_bias`)."""
    return kcap_rnn.with_bias(torch.as_tensor(codes, dtype=torch.float32), True)


def readout_signals(
    w: torch.Tensor, feats: torch.Tensor, targets: torch.Tensor
) -> tuple[Synapses, torch.Tensor]:
    """The readout's synapse signals on a batch feats (P,B,J), targets (P,B,C) one-hot; and the logits."""
    logits = torch.einsum("pcj,pbj->pbc", w, feats)
    error = targets - logits.softmax(dim=-1)
    post = torch.stack([error, targets], dim=2)  # (P,B,2,C), as [error_i, target_i] for M_out
    return Synapses(feats[:, :, None, :], post, w, pre_binary=True, post_binary=False), logits


def rule_step(
    rule: Rule, w: torch.Tensor, feats: torch.Tensor, targets: torch.Tensor, clip: float
) -> torch.Tensor:
    """Readout weights after one update of the rule's M_out part on a batch."""
    synapses, _ = readout_signals(w, feats, targets)
    delta = rule.delta("out", synapses)
    return w + (delta.clamp(-clip, clip) if clip > 0 else delta)


def cross_entropy(w: torch.Tensor, feats: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per network (P,)."""
    logits = torch.einsum("pcj,pbj->pbc", w, feats)
    return -logits.log_softmax(dim=-1).gather(-1, labels[..., None]).squeeze(-1).mean(dim=1)


def accuracy(w: torch.Tensor, feats: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return (torch.einsum("pcj,pbj->pbc", w, feats).argmax(dim=-1) == labels).float().mean(dim=1)


@dataclass
class ReadoutHistory:
    """Per epoch (E+1, P), epoch 0 before training: on the labelled points and on the test points."""

    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    loss: np.ndarray


@torch.no_grad()
def train_readout(
    rule: Rule,
    feats: torch.Tensor,
    labels: torch.Tensor,
    test_feats: torch.Tensor,
    test_labels: torch.Tensor,
    classes: int,
    epochs: int,
    batch_size: int,
    clip: float,
    seed: int,
) -> ReadoutHistory:
    """Train P readouts from zero by the rule alone: feats (P,N,J) labelled, test_feats (P,M,J)."""
    P, N, J = feats.shape
    w = torch.zeros(P, classes, J)
    targets = torch.nn.functional.one_hot(labels, classes).float()
    gen = generator(seed)
    batch = min(batch_size, N)
    history: dict[str, list] = {"train_accuracy": [], "test_accuracy": [], "loss": []}

    def record() -> None:
        history["train_accuracy"].append(accuracy(w, feats, labels))
        history["test_accuracy"].append(accuracy(w, test_feats, test_labels))
        history["loss"].append(cross_entropy(w, feats, labels))

    record()
    for _ in range(epochs):
        order = torch.argsort(torch.rand(P, N, generator=gen), dim=1)
        for start in range(0, N - batch + 1, batch):
            idx = order[:, start : start + batch]
            xb = torch.gather(feats, 1, idx[..., None].expand(-1, -1, J))
            tb = torch.gather(targets, 1, idx[..., None].expand(-1, -1, classes))
            w = rule_step(rule, w, xb, tb, clip)
        record()
    return ReadoutHistory(**{k: torch.stack(v).numpy() for k, v in history.items()})


def meta_train_readout(
    rule: Rule,
    pools: list[tuple[torch.Tensor, torch.Tensor]],
    classes: int,
    steps: int,
    lr: float,
    batch_size: int,
    reset_every: int,
    clip: float,
    seed: int,
) -> list[float]:
    """Adam on the rule's M_out part: cross-entropy of readouts after one update, on a fresh batch.

    `pools` are (codes (S,N,J), labels (N,)) of labelled training points, one per source dataset;
    one readout per source and seed learns alongside theta and restarts from zero every
    `reset_every` updates, at staggered times. Returns the meta-loss per step.
    """
    n = min(len(lab) for _, lab in pools)  # one population needs one N: the first n points of each
    feats = torch.cat([codes[:, :n] for codes, _ in pools])  # (P,n,J)
    labels = torch.cat([lab[:n].expand(len(codes), -1) for codes, lab in pools])
    P, N, J = feats.shape
    params = [p for name, p in rule.named_parameters() if name.split(".")[1] == "out"]  # M_out's part only
    optimiser = torch.optim.Adam(params, lr=lr)
    gen = generator(seed)
    w = torch.zeros(P, classes, J)
    age = torch.arange(P) * reset_every // max(P, 1)
    losses = []
    rows = torch.arange(P)[:, None]

    def batch() -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(N, (P, batch_size), generator=gen)
        return feats[rows, idx], labels[rows, idx]

    for _ in range(steps):
        (xa, ya), (xb, yb) = batch(), batch()
        stepped = rule_step(rule, w, xa, torch.nn.functional.one_hot(ya, classes).float(), clip)
        loss = cross_entropy(stepped, xb, yb).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
        w = stepped.detach()
        age += 1
        old = age >= reset_every
        w[old], age[old] = 0.0, 0
    return losses


@dataclass
class SemiSupervisedResult:
    accuracy: dict[str, dict[int, np.ndarray]]  # method -> label count -> (S,) test accuracy, mean over draws
    curves: dict[str, ReadoutHistory]  # readout method -> per-epoch history at `curve_labels`


def run_semi_supervised(
    features: dict[str, tuple[np.ndarray, np.ndarray]],
    raw: tuple[np.ndarray, np.ndarray],
    y_train: np.ndarray,
    y_test: np.ndarray,
    readouts: dict[str, tuple[Rule, str]],
    params: SemiSupervisedParams,
    clip: float,
    svm: tuple[str, float] = ("rbf", 1.0),
) -> SemiSupervisedResult:
    """Accuracy vs labels of every readout and reference classifier on one dataset.

    `features[name]` are (train (S,N,m), test (S,M,m)) codes of the networks of rule `name`;
    `readouts[method] = (rule, features name)` says which rule trains the readout on which codes.
    """
    classes = int(y_train.max()) + 1
    y_tr, y_te = torch.as_tensor(y_train), torch.as_tensor(y_test)
    accuracy: dict[str, dict[int, np.ndarray]] = {}
    curves: dict[str, ReadoutHistory] = {}
    for n in params.labels:
        sets = np.stack(label_draws(y_train, n, params.draws, params.seed))  # (D, n), shared by all methods
        for method, (rule, source) in readouts.items():
            train, test = (with_bias(a) for a in features[source])
            S, D = len(train), len(sets)
            feats = train[:, torch.as_tensor(sets)].flatten(0, 1)  # (S*D, n, J)
            test_feats = test.repeat_interleave(D, dim=0)
            history = train_readout(
                rule, feats, y_tr[torch.as_tensor(sets)].repeat(S, 1), test_feats,
                y_te.expand(S * D, -1), classes, params.epochs, params.batch_size, clip, params.seed,
            )  # fmt: skip
            accuracy.setdefault(method, {})[n] = history.test_accuracy[-1].reshape(S, D).mean(axis=1)
            if n == params.curve_labels:
                curves[method] = history
        train, test = features[params.rule]
        for method, (a, b) in (("svm", (train, test)), ("logreg", (train, test)), ("mlp_raw", raw)):
            scores = np.array(
                [
                    [
                        fit_and_score(method, a[s] if a.ndim == 3 else a, y_train, b[s] if b.ndim == 3 else b,
                                      y_test, idx, seed=params.seed + s, hidden=params.mlp_hidden, svm=svm)
                        for idx in sets
                    ]
                    for s in range(len(train))
                ]
            )  # fmt: skip
            accuracy.setdefault(method, {})[n] = scores.mean(axis=1)
    return SemiSupervisedResult(accuracy, curves)


def meta_readout(
    rule: Rule,
    pools: list[tuple[np.ndarray, np.ndarray]],
    classes: int,
    params: SemiSupervisedParams,
    clip: float,
) -> tuple[Rule, dict[str, float]]:
    """`rule`'s M_out part meta-trained as a readout rule on other datasets' labelled codes
    (codes (S,N,m), labels (N,)); the rule and its first and final meta-loss."""
    pools = [(with_bias(c), torch.as_tensor(y)) for c, y in pools]
    losses = meta_train_readout(
        rule, pools, classes, params.meta_steps, params.meta_lr, params.batch_size,
        reset_every=params.meta_reset_every, clip=clip, seed=params.seed,
    )  # fmt: skip
    tail = max(1, len(losses) // 10)
    return rule, {
        "meta_readout_loss_first": float(np.mean(losses[:tail])),
        "meta_readout_loss_final": float(np.mean(losses[-tail:])),
    }


def accuracy_tables(result: SemiSupervisedResult, params: SemiSupervisedParams) -> tuple[Any, Any]:
    """Mean test accuracy per label count and method; per-epoch curves at `curve_labels`."""
    import pandas as pd

    table = pd.DataFrame({"n_labels": params.labels})
    for method, per_n in result.accuracy.items():
        table[method] = [float(per_n[n].mean()) for n in params.labels]
    epochs = pd.DataFrame({"epoch": np.arange(params.epochs + 1)})
    for method, h in result.curves.items():
        epochs[f"{method}_train_accuracy"] = h.train_accuracy.mean(axis=1)
        epochs[f"{method}_test_accuracy"] = h.test_accuracy.mean(axis=1)
        epochs[f"{method}_loss"] = h.loss.mean(axis=1)
    return table, epochs
