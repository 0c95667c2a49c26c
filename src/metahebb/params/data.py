"""Groups of the data, backprop and evaluation stages, and of how stages use the machine."""

from __future__ import annotations

from dataclasses import dataclass, field

from metahebb.params.schema import MAX_SEED, ParamError, spec

DATASET_NAMES = ("circles", "moons", "blobs")
TARGET_NAMES = (*DATASET_NAMES, "digits")  # digits: a held-out target only, never meta-trained on


@dataclass(frozen=True)
class RuntimeParams:
    """How stages use the machine; never changes a result on CPU."""

    threads: int = field(metadata=spec(ge=1, le=64))
    device: str = field(metadata=spec(choices=("auto", "cpu", "cuda")))
    # Worker processes for a stage's independent runs (`metahebb.fanout`); "auto": one per usable core.
    workers: int | str = field(default="auto", metadata=spec(ge=1, le=1024))
    # Address of a running Dask scheduler (tcp://host:8786) to send the runs to; "" = local workers.
    # The environment variables METAHEBB_SCHEDULER and METAHEBB_WORKERS take precedence.
    scheduler: str = ""

    def check(self, prefix: str) -> None:
        if isinstance(self.workers, str) and self.workers != "auto":
            raise ParamError(f"{prefix}.workers={self.workers!r}: accepted values are 'auto' or 1..1024")
        if self.scheduler and "://" not in self.scheduler:
            raise ParamError(
                f"{prefix}.scheduler={self.scheduler!r}: expected a Dask scheduler address such as "
                "tcp://127.0.0.1:8786, or '' for local workers"
            )


@dataclass(frozen=True)
class DataParams:
    n_samples: int = field(metadata=spec(ge=20, le=1_000_000))
    noise: float = field(metadata=spec(ge=0.0))
    circles_factor: float = field(metadata=spec(gt=0.0, lt=1.0))
    blobs_std: float = field(metadata=spec(gt=0.0))
    blobs_distance: float = field(metadata=spec(gt=0.0))
    class_balance: float = field(metadata=spec(gt=0.0, lt=1.0))
    ambient_dim: int = field(metadata=spec(ge=2, le=10_000))
    test_fraction: float = field(metadata=spec(gt=0.0, lt=1.0))
    seed: int = field(metadata=spec(ge=0, le=MAX_SEED))
    projection_seed: int = field(metadata=spec(ge=0, le=MAX_SEED))

    def check(self, prefix: str) -> None:
        n0 = round(self.n_samples * self.class_balance)
        if min(n0, self.n_samples - n0) < 2:
            raise ParamError(
                f"{prefix}.class_balance={self.class_balance}: leaves {n0} and {self.n_samples - n0} "
                "points in the two classes; both need at least 2"
            )
        n_test = round(self.n_samples * self.test_fraction)
        if n_test < 2 or self.n_samples - n_test < 2:
            raise ParamError(
                f"{prefix}.test_fraction={self.test_fraction}: leaves {n_test} test and "
                f"{self.n_samples - n_test} training points; both need at least 2"
            )


@dataclass(frozen=True)
class BackpropParams:
    architectures: list[str] = field(
        metadata=spec(choices=("mlp", "rnn", "mlp2d"), nonempty=True, unique=True)
    )
    hidden: int = field(metadata=spec(ge=1, le=4096))
    latent_layer: int = field(metadata=spec(ge=1, le=3))
    activation: str = field(metadata=spec(choices=("tanh", "relu", "elu", "sigmoid")))
    optimizer: str = field(metadata=spec(choices=("adam", "sgd")))
    lr: float = field(metadata=spec(gt=0.0, le=10.0))
    epochs: int = field(metadata=spec(ge=1, le=100_000))
    batch_size: int = field(metadata=spec(ge=1))
    seeds: list[int] = field(metadata=spec(ge=0, le=MAX_SEED, nonempty=True, unique=True))
    plateau_rel_mse: float = field(metadata=spec(gt=0.0, le=1.0))
    bottleneck: int = field(default=2, metadata=spec(ge=1, le=64))  # width of mlp2d's last hidden layer h3


@dataclass(frozen=True)
class EvaluateParams:
    latent_dim: int = field(metadata=spec(ge=1, le=3))
    emd_points: int = field(metadata=spec(ge=2, le=20_000))
    emd_normalise: str = field(metadata=spec(choices=("zscore", "scale", "none")))
    emd_align: str = field(metadata=spec(choices=("procrustes", "none")))
    emd_cost: str = field(metadata=spec(choices=("sqeuclidean", "euclidean")))
    emd_max_iter: int = field(metadata=spec(ge=1000))
    svm_labels: list[int | str] = field(metadata=spec(nonempty=True, unique=True))
    svm_draws: int = field(metadata=spec(ge=1, le=1000))
    svm_kernel: str = field(metadata=spec(choices=("rbf", "linear")))
    svm_c: float = field(metadata=spec(gt=0.0))
    seed: int = field(metadata=spec(ge=0, le=MAX_SEED))
    # k of trustworthiness and continuity (metrics/neighbourhood.py)
    neighbours: int = field(default=10, metadata=spec(ge=1, le=1000))

    def check(self, prefix: str) -> None:
        for n in self.svm_labels:
            if n == "all":
                continue
            if isinstance(n, str) or n < 2:
                raise ParamError(
                    f"{prefix}.svm_labels: item {n!r} is not accepted; use integers >= 2 or 'all'"
                )


def check_label_counts(labels: list[int | str], n_train: int, prefix: str = "evaluate.svm_labels") -> None:
    """A label count must fit in the training split, which is known only once data exists."""
    for n in labels:
        if n != "all" and n > n_train:
            raise ParamError(f"{prefix}: {n} labels requested but the training split has {n_train} points")
