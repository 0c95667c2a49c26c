"""`table`: a plasticity rule that is a lookup table over firing histories.

Firing is binary, so whatever a neuron-local rule computes from the T-step histories of a pre and a
post neuron is a function on 2^T x 2^T patterns: a table. Learning the table directly, rather than
an MLP that fills it (`learned`), leaves no architecture to choose and every entry is readable in
the heatmap `tabulate` draws. M_in has a real pre side (the input x_0), so its rule is one
coefficient per post history times x0_j; M_out has a binary pre side (x_{T+1}) and a real post side
([error_i, target_i]), so its rule is one coefficient per pre bit and post channel.

The table starts exactly at plain Hebb with learning rate `lr`: the rec entry for (post, pre)
patterns is the number of steps where both fire (`paired_hebb` pairs step s of pre with step s of
post), the in coefficient is the first post bit (Hebb pairs x_0 with x_1 only), and the out table
keeps the error channel for a firing pre neuron (the delta rule). The init is bit-for-bit the `hebb`
rule's update: the sums are of integers, exact in float32, and the scaling mirrors `HebbRule`'s
order (sum, divide by the batch, times lr, then times the learned gain, which starts at exactly 1).

Every parameter is O(1) (entries are counts, the gain is a log), so an evolution strategy can
search them all with one sigma; the step is `lr * exp(log_gain)` per matrix. The update works under
`torch.func.vmap` over candidate parameter vectors: no in-place op touches a tensor that is not
derived from the batched inputs or parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from metahebb.rules.base import MATRICES, Rule, RuleTable, Synapses, rule_table, table_histories
from metahebb.rules.learned import bit_patterns, pattern_weights


def lookup(history: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """table[pattern of each neuron's history]: (P,B,S,N), (2^S, ...) -> (P,B,N, ...).

    Hard firing indexes the table (no one-hot, 2-10x faster); firing that carries a gradient takes
    the multilinear one-hot of `pattern_weights`. Both are exact on binary firing.
    """
    if not history.requires_grad:
        return table[_index(history)]
    weights = pattern_weights(history.transpose(2, 3), bit_patterns(history.shape[2]).to(history))
    return torch.tensordot(weights, table, dims=1)


def _index(history: torch.Tensor) -> torch.Tensor:
    """Integer pattern (P,B,N) of binary histories (P,B,S,N), first step most significant.

    S-1 multiply-adds of whole slices: exact (small integers), and cheaper than an einsum with 2^s.
    """
    index = history[:, :, 0]
    for step in range(1, history.shape[2]):
        index = index * 2.0 + history[:, :, step]
    return index.long()


def _channels(post: torch.Tensor, coefficient: torch.Tensor) -> torch.Tensor:
    """sum over channels c of post[:, :, c] (P,B,I) times coefficient[..., c] (P,B,J), as (P,I,J).

    One product per channel, summed after: the error channel alone is then Hebb's exact sum.
    """
    total = torch.einsum("pbi,pbj->pij", post[:, :, 0], coefficient[..., 0])
    for channel in range(1, post.shape[2]):
        total = total + torch.einsum("pbi,pbj->pij", post[:, :, channel], coefficient[..., channel])
    return total


def _summed(name: str, s: Synapses, table: torch.Tensor) -> torch.Tensor:
    """sum_b of `table`'s value on every synapse, (P,I,J)."""
    if name == "rec":  # the post side looks up its table row, the pre side picks the column
        pre = s.pre.transpose(2, 3)  # (P,B,J,T)
        columns = pattern_weights(pre, bit_patterns(pre.shape[-1]).to(pre))
        return torch.einsum("pbic,pbjc->pij", lookup(s.post, table), columns)
    if name == "in":
        return torch.einsum("pbi,pbj->pij", lookup(s.post, table), s.pre[:, :, 0])
    if name == "out":
        return _channels(s.post, lookup(s.pre, table))  # coefficient (P,B,J,channel)
    raise ValueError(f"unknown matrix {name!r}")


# Scratch operands of `_candidate_summed`, reused across calls: a fresh 2 MB tensor per update costs more in
# page faults (the allocator maps and unmaps such blocks) than the work done on it. Only ever read inside
# one call (single-threaded ES loop); nothing returned aliases them.
_SCRATCH: dict[str, torch.Tensor] = {}


def _scratch(
    key: str, shape: tuple[int, ...], like: torch.Tensor, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """A reusable (uninitialised) tensor of `shape`, of `like`'s device and `dtype` (default: like's)."""
    dtype = like.dtype if dtype is None else dtype
    buf = _SCRATCH.get(key)
    if buf is None or buf.shape != shape or buf.dtype != dtype or buf.device != like.device:
        buf = _SCRATCH[key] = torch.empty(shape, dtype=dtype, device=like.device)
    return buf


def _gather(
    table: torch.Tensor, index: torch.Tensor, networks: int, out: torch.Tensor | None = None
) -> torch.Tensor:
    """Candidate c's table[index] for networks c*networks..: `lookup(..., networks)`'s values, index_select."""
    candidates, rows = table.shape[0], table.shape[1]
    offset = torch.arange(0, candidates * rows, rows, device=index.device)
    flat_index = (index.reshape(candidates, -1) + offset[:, None]).view(-1)
    flat = table.reshape(candidates * rows, -1)
    if out is None:
        values = flat.index_select(0, flat_index)
    else:
        values = torch.index_select(flat, 0, flat_index, out=out.view(len(flat_index), flat.shape[1]))
    return values.view(*index.shape, *table.shape[2:])


def _candidate_summed(name: str, s: Synapses, table: torch.Tensor, networks: int) -> torch.Tensor:
    """`_summed(name, s, table)` of candidate c's table on networks c*networks.., for hard firing,
    with its einsums' bmm operands built in place.

    Each einsum of `_summed` permutes its operands into contiguous bmm operands and calls one bmm; here
    the operands are gathered straight into that layout (no one-hot of int64, no permute copies) and
    handed to the same bmm, so every product and sum is the same (tests/test_es_speed.py, bitwise).
    """
    p, b = s.pre.shape[0], s.pre.shape[1]
    if name == "rec":
        # left (P, I, B*2^T): row i is table[post pattern of (b, i)] over the pre patterns c
        post = _index(s.post).transpose(1, 2)  # (P,I,B)
        columns = table.shape[-1]  # pre patterns
        left = _scratch("rec.left", (p, post.shape[1], b * columns), table)
        _gather(table, post, networks, out=left)
        # right (P, B*2^T, J): one-hot of pre patterns, c before j
        pre = _index(s.pre)  # (P,B,J)
        right = _scratch("rec.right", (p, b, columns, pre.shape[2]), s.pre).zero_()
        right.scatter_(2, pre[:, :, None, :], 1.0)
        return torch.bmm(left, right.view(p, b * columns, -1))
    if name == "in":
        return torch.einsum("pbi,pbj->pij", _gather(table, _index(s.post), networks), s.pre[:, :, 0])
    if name == "out":
        return _channels(s.post, _gather(table, _index(s.pre), networks))
    raise ValueError(f"unknown matrix {name!r}")


def _same_view(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.data_ptr() == b.data_ptr() and a.shape == b.shape and a.stride() == b.stride()


def _shared_states(synapses: dict[str, Synapses]) -> torch.Tensor | None:
    """The states (P,B,T+1,m) every firing side of `synapses` is a view of, as `synapses_of` makes them."""
    if set(synapses) != set(MATRICES):
        return None
    states = synapses["in"].post
    if states.requires_grad or states.dim() != 4 or states.shape[2] < 2:
        return None
    rec, out = synapses["rec"], synapses["out"]
    views = (rec.pre, states[:, :, :-1]), (rec.post, states[:, :, 1:]), (out.pre, states[:, :, -1:])
    return states if all(_same_view(a, b) for a, b in views) else None


def _offsets(table: torch.Tensor, networks: int, like: torch.Tensor) -> torch.Tensor:
    """(P,1,1) float: the first row of network p's candidate in `table` flattened to (C*rows, ...)."""
    candidates, rows = table.shape[0], table.shape[1]
    offset = torch.arange(0, candidates * rows, rows, dtype=like.dtype, device=like.device)
    return offset.repeat_interleave(networks).view(-1, 1, 1)


def _candidate_summed_shared(
    synapses: dict[str, Synapses], states: torch.Tensor, tables: dict[str, torch.Tensor], networks: int
) -> dict[str, torch.Tensor]:
    """`_candidate_summed` of the three matrices from one set of pattern codes of `states`.

    Codes are float sums of bits times powers of two (exact small integers, the same as `_index`):
    pre3 = the code of x_1..x_T (rec's pre), code = that of x_1..x_{T+1} (in's post), and rec's post
    (x_2..x_{T+1}) is code - 2^T x_1. `out`'s one-bit lookup is a `where` on x_{T+1}. Every table
    value and every bmm operand is the one `_candidate_summed` builds.
    """
    p, b, steps = states.shape[0], states.shape[1], states.shape[2]
    pre3 = states[:, :, 0]
    for step in range(1, steps - 1):
        pre3 = pre3 * 2.0 + states[:, :, step]
    last = states[:, :, -1]
    code = pre3 * 2.0 + last
    out: dict[str, torch.Tensor] = {}

    # in: table[code of x_1..x_{T+1}] times the input x_0
    table = tables["in"]
    index = (code + _offsets(table, networks, code)).to(torch.int32)
    values = table.reshape(-1).index_select(0, index.view(-1)).view(index.shape)
    out["in"] = torch.einsum("pbi,pbj->pij", values, synapses["in"].pre[:, :, 0])

    # rec: as `_candidate_summed`, left from the post codes, right the one-hot of the pre codes
    table = tables["rec"]
    columns = table.shape[-1]
    post = code - states[:, :, 0] * float(2 ** (steps - 1))
    post.add_(_offsets(table, networks, post))
    index = _scratch("rec.index", (p, post.shape[2], b), post, torch.int32)
    index.copy_(post.transpose(1, 2))
    left = _scratch("rec.left", (p, post.shape[2], b * columns), table)
    torch.index_select(table.reshape(-1, columns), 0, index.view(-1), out=left.view(-1, columns))
    right = _scratch("rec.right", (p, b, columns, pre3.shape[2]), states).zero_()
    right.scatter_(2, pre3.long()[:, :, None, :], 1.0)
    out["rec"] = torch.bmm(left, right.view(p, b * columns, -1))

    # out: coefficient (pre bit, channel) by a where on x_{T+1}
    table = tables["out"].repeat_interleave(networks, 0)  # (P, 2, channels)
    fired = last.bool()
    post_out = synapses["out"].post
    total = None
    for channel in range(post_out.shape[2]):
        coefficient = torch.where(
            fired, table[:, 1, channel].view(-1, 1, 1), table[:, 0, channel].view(-1, 1, 1)
        )
        term = torch.einsum("pbi,pbj->pij", post_out[:, :, channel], coefficient)
        total = term if total is None else total + term
    out["out"] = total
    return out


class TableRule(Rule):
    def __init__(self, T: int, lr: float) -> None:
        super().__init__()
        self.T = T
        self.lr = lr
        history = bit_patterns(T)
        out = torch.tensor([[0.0, 0.0], [1.0, 0.0]])  # rows: pre x_{T+1} = 0, 1; cols: error, target
        self.tables = nn.ParameterDict(
            {
                "in": nn.Parameter(bit_patterns(T + 1)[:, 0].clone()),  # post x_1..x_{T+1} -> its x_1
                "rec": nn.Parameter(history @ history.T),  # (post, pre) -> steps where both fire
                "out": nn.Parameter(out),
            }
        )
        self.log_gain = nn.ParameterDict({name: nn.Parameter(torch.zeros(())) for name in MATRICES})

    def summed(self, name: str, s: Synapses) -> torch.Tensor:
        """sum_b of the table's value on every synapse, (P,I,J), before the batch mean and the step."""
        return _summed(name, s, self.tables[name])

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        batch = s.pre.shape[1]
        dw = self.summed(name, s)
        gain = self.log_gain[name].exp()  # exp(0) == 1 exactly: times lr first keeps the init == hebb
        if torch.is_grad_enabled():
            dw = dw / batch if batch > 1 else dw
            return dw * self.lr * gain
        # The same arithmetic in place (frozen-rule training): dw is fresh, derived from the inputs.
        dw = dw.div_(batch) if batch > 1 else dw
        return dw.mul_(self.lr).mul_(gain)

    def candidate_delta(
        self, name: str, s: Synapses, params: dict[str, torch.Tensor], networks: int
    ) -> torch.Tensor:
        """`delta` of C candidates' parameters {name: (C, *shape)} at once, without `vmap` (no gradient).

        Networks c*networks..(c+1)*networks-1 use candidate c. The same ops on the same values as
        `vmap(delta)` over candidates (tests/test_es_speed.py checks bitwise equality).
        """
        dw = _candidate_summed(name, s, params[f"tables.{name}"], networks)
        return self._candidate_step(name, dw, s.pre.shape[1], params, networks)

    def candidate_forward(
        self, synapses: dict[str, Synapses], params: dict[str, torch.Tensor], networks: int
    ) -> dict[str, torch.Tensor]:
        """`candidate_delta` of every matrix, sharing the firing patterns where `synapses` come from one
        pass (`synapses_of`: every side a view of the same states); else one matrix at a time."""
        states = _shared_states(synapses)
        if states is None:
            return {name: self.candidate_delta(name, s, params, networks) for name, s in synapses.items()}
        tables = {name: params[f"tables.{name}"] for name in MATRICES}
        summed = _candidate_summed_shared(synapses, states, tables, networks)
        batch = states.shape[1]
        return {name: self._candidate_step(name, summed[name], batch, params, networks) for name in synapses}

    def _candidate_step(
        self, name: str, dw: torch.Tensor, batch: int, params: dict[str, torch.Tensor], networks: int
    ) -> torch.Tensor:
        """`delta`'s in-place scaling of the sum, with candidate c's gain on its networks."""
        gain = params[f"log_gain.{name}"].exp()  # (C,)
        dw = dw.div_(batch) if batch > 1 else dw
        dw = dw.mul_(self.lr).view(len(gain), networks, *dw.shape[1:])
        return dw.mul_(gain.view(-1, 1, 1, 1)).view(-1, *dw.shape[2:])

    @torch.no_grad()
    def tabulate(self, name: str, real_values: tuple[float, ...] = (-1.0, 0.0, 1.0)) -> RuleTable:
        """`Rule.tabulate`: the table's entries (the step included) on every firing pattern."""
        table = self.tables[name]
        pre, post = (h.to(table) for h in table_histories(name, self.T, real_values))
        if name == "rec":
            values = table
        elif name == "in":
            values = table[:, None] * pre[None, :, 0]
        else:
            values = post @ table.T  # (post [error, target], pre bit)
        return rule_table(self.lr * self.log_gain[name].exp() * values, pre, post)
