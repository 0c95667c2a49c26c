import dataclasses

import pytest
import torch

from metahebb.kcap_rnn import forward, init_network
from metahebb.params import KCapRNNParams, ParamError, parse_group, read_params
from metahebb.runtime import generator


def rnn_params(**over) -> KCapRNNParams:
    base = KCapRNNParams(m=16, k=4, T=3, bias=True, readout="linear", init="gaussian", init_gain=1.0)
    return dataclasses.replace(base, **over)


def test_trace_shapes_and_kcap_states():
    p = rnn_params()
    net = init_network(3, 5, p, generator(0))
    assert net.w_in.shape == (3, 16, 6) and net.w_rec.shape == (3, 16, 16) and net.w_out.shape == (3, 5, 16)
    x = torch.randn(3, 7, 5, generator=generator(1))
    trace = forward(net, x, p)
    assert trace.states.shape == (3, 7, 4, 16) and trace.output.shape == (3, 7, 5)
    assert (trace.states.sum(-1) == 4).all()
    assert torch.equal(trace.x0[..., -1], torch.ones(3, 7))


def test_seeded_init_is_reproducible():
    a, b = (init_network(2, 5, rnn_params(), generator(7)) for _ in range(2))
    assert torch.equal(a.w_rec, b.w_rec)
    assert not torch.equal(a.w_rec[0], a.w_rec[1])


def test_without_bias_kcap_is_scale_invariant():
    x = torch.randn(1, 8, 5, generator=generator(2))
    for bias, same in ((False, True), (True, False)):
        p = rnn_params(bias=bias)
        net = init_network(1, 5, p, generator(3))
        s1, s2 = forward(net, x, p).states, forward(net, 3 * x, p).states
        assert torch.equal(s1, s2) == same


def test_kcap_readout_is_binary():
    p = rnn_params(readout="kcap")
    trace = forward(init_network(2, 8, p, generator(0)), torch.randn(2, 3, 8, generator=generator(1)), p)
    assert (trace.output.sum(-1) == 2).all()  # round(8 * 4 / 16)


def test_params_yaml_group_parses(repo):
    parse_group(KCapRNNParams, read_params(repo / "params.yaml")["kcap_rnn"], "kcap_rnn")


@pytest.mark.parametrize("over", [{"k": 16}, {"k": 20}, {"k": 0}, {"T": 0}, {"readout": "softmax"}])
def test_bad_params_fail_with_one_line(over):
    raw = {**dataclasses.asdict(rnn_params()), **over}
    with pytest.raises(ParamError) as err:
        parse_group(KCapRNNParams, raw, "kcap_rnn")
    assert "\n" not in str(err.value) and str(err.value).startswith("kcap_rnn.")
