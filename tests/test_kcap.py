import pytest
import torch

from metahebb.kcap import kcap, relaxed_kcap


def test_exactly_k_ones():
    x = torch.randn(5, 7, 20, generator=torch.Generator().manual_seed(0))
    out = kcap(x, 4)
    assert set(out.unique().tolist()) == {0.0, 1.0}
    assert (out.sum(-1) == 4).all()
    # the ones sit on the 4 largest entries
    assert torch.equal(out.bool(), x >= x.topk(4, dim=-1).values[..., -1:])


def test_ties_lowest_index_wins():
    assert kcap(torch.zeros(6), 2).tolist() == [1, 1, 0, 0, 0, 0]
    assert kcap(torch.tensor([0.0, 1.0, 1.0, 1.0, 2.0]), 3).tolist() == [0, 1, 1, 0, 1]
    x = torch.tensor([[3.0, 1.0, 1.0, 1.0]] * 4)
    assert (kcap(x, 2) == torch.tensor([1.0, 1.0, 0.0, 0.0])).all()


@pytest.mark.parametrize("mode", ["ste", "soft"])
def test_relaxation_has_gradient(mode):
    x = torch.randn(3, 10, generator=torch.Generator().manual_seed(1), requires_grad=True)
    out = relaxed_kcap(x, 3, mode=mode, temperature=0.5)
    (out * torch.arange(10.0)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_ste_forward_is_hard_and_soft_approaches_it():
    x = torch.randn(4, 9, generator=torch.Generator().manual_seed(2))
    assert torch.equal(relaxed_kcap(x, 2, "ste"), kcap(x, 2))
    with pytest.raises(ValueError, match="relaxation"):
        relaxed_kcap(x, 2, "hard")
    soft = relaxed_kcap(x, 2, "soft", temperature=1e-3)
    assert torch.allclose(soft, kcap(x, 2), atol=1e-3)


def _stable_sort_kcap(x: torch.Tensor, k: int) -> torch.Tensor:
    """The reference definition: a stable descending sort, the first k indices win."""
    order = torch.sort(x, dim=-1, descending=True, stable=True).indices[..., :k]
    return torch.zeros_like(x).scatter_(-1, order, 1.0)


@pytest.mark.parametrize("shape, k", [((4, 9, 16), 4), ((3, 1, 64), 8), ((2, 5, 13), 1), ((2, 5, 13), 13)])
@pytest.mark.parametrize("values", ["real", "few_ties", "many_ties", "constant"])
def test_topk_kcap_equals_the_stable_sort_definition(shape, k, values):
    g = torch.Generator().manual_seed(k)
    x = {
        "real": torch.randn(shape, generator=g),
        "few_ties": torch.randint(-50, 50, shape, generator=g).float(),
        "many_ties": torch.randint(0, 3, shape, generator=g).float(),
        "constant": torch.zeros(shape),
    }[values]
    assert torch.equal(kcap(x, k), _stable_sort_kcap(x, k))
    assert torch.equal(kcap(-x, k), _stable_sort_kcap(-x, k))
