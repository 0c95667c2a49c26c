import pytest
import torch

from metahebb.params import ParamError
from metahebb.runtime import configure, generator


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_cpu_path_pins_threads(restore_threads):
    assert configure(2, "cpu") == torch.device("cpu")
    assert torch.get_num_threads() == 2
    configure(1, "cpu")
    assert torch.get_num_threads() == 1


def test_auto_picks_cuda_only_when_present(restore_threads):
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert configure(1, "auto").type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_fails_with_one_line(restore_threads):
    with pytest.raises(ParamError) as err:
        configure(1, "cuda")
    assert "\n" not in str(err.value) and "runtime.device" in str(err.value)


def test_generator_is_seeded():
    a, b = (torch.rand(3, generator=generator(7)) for _ in range(2))
    assert torch.equal(a, b)
