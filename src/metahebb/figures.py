"""Figures in the spirit of the paper's Figure 2: datasets and latents, loss curves, accuracy vs labels.

Each function takes plain arrays and tables and returns a matplotlib Figure; nothing here
reads files, so a figure can be redrawn from any run.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no screen on CI or servers

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from metahebb.metrics.emd import mapped_clouds, pca  # noqa: E402
from metahebb.params import EvaluateParams  # noqa: E402

CLASS_COLOURS = np.array(["#1f77b4", "#d62728"])
LEGEND_WIDTH = 1.7  # inches beside the panels for a legend shared by all of them
# What the rows and columns of each matrix's rule table are (`Rule.tabulate`), for T unrolled steps.
TABLE_AXES = {
    "in": ("pre: input x0_j", "post: firing x_1..x_T+1"),
    "rec": ("pre: firing x_1..x_T", "post: firing x_2..x_T+1"),
    "out": ("pre: firing x_T+1", "post: [error_i, target_i]"),
}


def plane(cloud: np.ndarray) -> np.ndarray:
    """The first two coordinates of a mapped cloud, padded if it has one."""
    return np.pad(cloud, ((0, 0), (0, max(0, 2 - cloud.shape[1]))))[:, :2]


def class_legend(ax: Axes) -> None:
    """Which colour is which class, for a scatter coloured by `CLASS_COLOURS`."""
    marks = [
        Line2D([], [], ls="", marker="o", ms=4, color=c, label=f"class {i}")
        for i, c in enumerate(CLASS_COLOURS)
    ]
    ax.legend(handles=marks, fontsize=7, loc="best", framealpha=0.8)


def latent_grid(
    truths: dict[str, np.ndarray],
    labels: dict[str, np.ndarray],
    latents: dict[str, dict[str, np.ndarray]],
    emds: dict[str, dict[str, float]],
    params: EvaluateParams,
) -> Figure:
    """Rows: the true 2D data, then one row per model; columns: datasets. Test points of one seed,
    mapped exactly as the EMD maps them (`evaluate.emd_*`)."""
    datasets, models = list(truths), list(latents)
    fig, axes = plt.subplots(
        1 + len(models), len(datasets), figsize=(3 * len(datasets), 2.8 * (1 + len(models))), squeeze=False
    )
    for col, ds in enumerate(datasets):
        colours = CLASS_COLOURS[labels[ds] % 2]
        ax = axes[0, col]
        ax.scatter(*plane(mapped_clouds(truths[ds], truths[ds], params)[1]).T, c=colours, s=4)
        ax.set_title(f"{ds}: true 2D latent", fontsize=9)
        for row, model in enumerate(models, start=1):
            ax = axes[row, col]
            aligned, _ = mapped_clouds(latents[model][ds], truths[ds], params)
            ax.scatter(*plane(aligned).T, c=colours, s=4)
            ax.set_title(f"{ds}: {model}  (mean EMD {emds[model][ds]:.3g})", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    class_legend(axes[0, 0])
    fig.tight_layout()
    return fig


def panels(count: int) -> tuple[Figure, np.ndarray]:
    """One row of `count` panels with room on the right for `shared_legend`."""
    fig, axes = plt.subplots(1, count, figsize=(3.6 * count + LEGEND_WIDTH, 3), squeeze=False)
    return fig, axes[0]


def shared_legend(fig: Figure, ax: Axes) -> None:
    """One legend for every panel, beside them: inside a panel it would cover the curves."""
    width = fig.get_figwidth()
    fig.tight_layout(rect=(0, 0, 1 - LEGEND_WIDTH / width, 1))
    fig.legend(*ax.get_legend_handles_labels(), loc="center right", fontsize=8, frameon=False)


def label_axis(ax: Axes, n_labels: pd.Series, counts: list | None = None) -> None:
    """A log2 axis of labelled points, one tick per count; the count `all` (every training point)
    is the last tick, at its real position."""
    ns = [int(n) for n in n_labels]
    names = [str(n) for n in ns] if counts is None else [str(c) for c in counts]
    ax.set_xscale("log", base=2)
    ax.set_xticks(ns, [f"all\n({n})" if c == "all" else c for c, n in zip(names, ns, strict=True)])
    ax.minorticks_off()
    ax.set_xlabel("labelled training points")


def loss_curves(curves: dict[str, dict[str, pd.DataFrame]], ylabel: str = "training MSE") -> Figure:
    """One panel per dataset; a line per model with a band from the best to the worst seed."""
    datasets = list(next(iter(curves.values())))
    fig, axes = panels(len(datasets))
    for ax, ds in zip(axes, datasets, strict=True):
        for model, per_dataset in curves.items():
            table = per_dataset[ds]
            seeds = table[[c for c in table.columns if c.startswith("loss_seed")]].to_numpy()
            (line,) = ax.plot(table["epoch"], table["loss_mean"], label=model)
            ax.fill_between(
                table["epoch"], seeds.min(axis=1), seeds.max(axis=1), color=line.get_color(), alpha=0.2
            )
        ax.set_yscale("log")
        ax.set_title(ds, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
    shared_legend(fig, axes[0])
    return fig


def accuracy_vs_labels(curves: dict[str, dict[str, pd.DataFrame]], counts: list | None = None) -> Figure:
    """One panel per dataset; SVM test accuracy (mean and spread over seeds) against labelled points.

    `counts` names each row's label count as params.yaml does (`evaluate.svm_labels`, `all` included).
    """
    datasets = list(next(iter(curves.values())))
    fig, axes = panels(len(datasets))
    for ax, ds in zip(axes, datasets, strict=True):
        for model, per_dataset in curves.items():
            t = per_dataset[ds]
            style = {"linestyle": ":", "color": "grey"} if model in ("raw", "true") else {}
            if model == "true":
                style["color"] = "black"
            ax.errorbar(t["n_labels"], t["accuracy"], yerr=t["accuracy_std"], label=model, capsize=2, **style)
        label_axis(ax, t["n_labels"], counts)
        ax.set_ylim(0.4, 1.02)
        ax.set_title(ds, fontsize=10)
        ax.set_ylabel("SVM test accuracy")
    shared_legend(fig, axes[0])
    return fig


def close(fig: Figure) -> None:
    plt.close(fig)


def meta_loss_curves(histories: dict[str, pd.DataFrame], window: int = 20) -> Figure:
    """Meta-loss per step of each meta-trained rule, smoothed by a running mean, and which theta is kept.

    meta_train keeps the last theta, whatever the curve does late: the rule is judged by what it
    does to networks of every age, and each point is a noisy one-batch estimate on a population of
    inner networks that keeps moving, so its minimum picks a lucky batch more than a better rule.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    for rule, table in histories.items():
        smooth = table["meta_loss"].rolling(window, min_periods=1).mean()
        (line,) = ax.plot(table["step"], smooth, label=rule)
        ax.plot(table["step"].iloc[-1], smooth.iloc[-1], "o", color=line.get_color())
    last = max(int(t["step"].iloc[-1]) for t in histories.values())
    ax.axvline(last, color="grey", ls=":", lw=1)
    ax.annotate(
        "theta kept\n(last step)",
        (last, 0.97),
        xycoords=("data", "axes fraction"),
        ha="right",
        va="top",
        fontsize=7,
    )
    ax.set_xlabel("meta-training step")
    ax.set_ylabel(f"meta-loss (running mean of {window})")
    ax.set_title("Meta-loss; the last theta is used (dot)", fontsize=10)
    ax.legend(fontsize=8, loc="upper center")
    note = (
        "The last theta is kept even where the curve rises: a rule is judged by what it does to networks of "
        "every age, and each point is a noisy one-batch estimate on a moving population of inner networks."
    )
    fig.text(0.01, 0.01, note, fontsize=7, wrap=True, va="bottom")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def rule_tables(tables: dict[str, dict[str, dict]]) -> Figure:
    """What each learned rule does: the synapse change for every (pre, post) firing pattern.

    Rows of a panel are post-synaptic patterns over the unrolled steps, columns pre-synaptic
    ones; red potentiates, blue depresses. One row of panels per rule, one column per matrix.
    """
    rules = list(tables)
    matrices = list(next(iter(tables.values())))
    fig, axes = plt.subplots(
        len(rules), len(matrices), figsize=(4.2 * len(matrices), 4.2 * len(rules)), squeeze=False
    )
    for row, rule in enumerate(rules):
        for col, matrix in enumerate(matrices):
            t, ax = tables[rule][matrix], axes[row, col]
            values = np.asarray(t["values"])
            bound = float(np.abs(values).max()) or 1.0
            image = ax.imshow(values, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto")
            ax.set_title(f"{rule}: M_{matrix}", fontsize=10)
            ax.set_xticks(range(len(t["pre"])), t["pre"], rotation=90, fontsize=6)
            ax.set_yticks(range(len(t["post"])), t["post"], fontsize=6)
            pre, post = TABLE_AXES.get(matrix, ("pre-synaptic pattern", "post-synaptic pattern"))
            ax.set_xlabel(pre, fontsize=8)
            ax.set_ylabel(post, fontsize=8)
            bar = fig.colorbar(image, ax=ax, fraction=0.046)
            bar.set_label("Δw_ij per update (one sample)", fontsize=8)
    fig.tight_layout()
    return fig


def semi_supervised_figure(
    codes: dict[str, np.ndarray],
    labels: dict[str, np.ndarray],
    epochs: dict[str, pd.DataFrame],
    accuracy: dict[str, pd.DataFrame],
    readout: str,
    curve_labels: int,
) -> Figure:
    """Figure 4: (a) the unsupervised features, (b) classification loss and (c) train/test accuracy
    of the rule-trained readout per epoch at `curve_labels` labels, (d) test accuracy vs labels."""
    datasets = list(codes)
    fig, axes = plt.subplots(
        4, len(datasets), figsize=(3.6 * len(datasets) + LEGEND_WIDTH, 12), squeeze=False
    )
    for col, ds in enumerate(datasets):
        ax = axes[0, col]
        ax.scatter(*pca(codes[ds].astype(np.float64), 2).T, c=CLASS_COLOURS[labels[ds] % 2], s=4)
        ax.set_title(f"{ds}: features (PCA of x_T+1)", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("PC 1", fontsize=8)
        ax.set_ylabel("PC 2", fontsize=8)
        class_legend(ax)
        e = epochs[ds]
        axes[1, col].plot(e["epoch"], e[f"{readout}_loss"])
        axes[1, col].set_title(f"cross-entropy, {curve_labels} labels", fontsize=9)
        axes[1, col].set_xlabel("epoch")
        for split in ("train", "test"):
            axes[2, col].plot(e["epoch"], e[f"{readout}_{split}_accuracy"], label=split)
        axes[2, col].set_title(f"readout accuracy, {curve_labels} labels", fontsize=9)
        axes[2, col].set_xlabel("epoch")
        axes[2, col].legend(fontsize=8)
        a = accuracy[ds]
        for method in a.columns[1:]:
            axes[3, col].plot(a["n_labels"], a[method], marker="o", ms=3, label=method)
        label_axis(axes[3, col], a["n_labels"])
        axes[3, col].set_title("test accuracy", fontsize=9)
    axes[1, 0].set_ylabel("readout cross-entropy")
    axes[2, 0].set_ylabel("accuracy")
    axes[3, 0].set_ylabel("test accuracy")
    fig.tight_layout(rect=(0, 0, 1 - LEGEND_WIDTH / fig.get_figwidth(), 1))
    handles, names = axes[3, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower right", bbox_to_anchor=(1, 0.05), fontsize=7, frameon=False)
    return fig


def generalisation_heatmap(matrix: pd.DataFrame, title: str) -> Figure:
    """Rows: where the rule was meta-trained; columns: the dataset a fresh network learns."""
    fig, ax = plt.subplots(figsize=(1.4 * matrix.shape[1] + 2.5, 0.55 * matrix.shape[0] + 1.5))
    image = ax.imshow(matrix.to_numpy(), cmap="viridis", aspect="auto")
    ax.set_xticks(range(matrix.shape[1]), matrix.columns)
    ax.set_yticks(range(matrix.shape[0]), matrix.index)
    for (i, j), v in np.ndenumerate(matrix.to_numpy()):
        ax.text(
            j,
            i,
            f"{v:.2f}",
            ha="center",
            va="center",
            color="white" if v < matrix.to_numpy().mean() else "black",
        )
    ax.set_xlabel("target dataset")
    ax.set_ylabel("rule meta-trained on")
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label="mean SVM test accuracy")
    fig.tight_layout()
    return fig
