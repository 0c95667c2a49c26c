"""The rules x optimisers x objectives table and the issue's targets, from metrics/meta_compare only.

Targets (judged with `evaluation.above`: 95% intervals that do not overlap):
- main: some meta-learned variant beats both `none` and `hebb` (with homeostasis) at every label
  count of the table on at least two of the three datasets;
- stretch: some meta-learned variant is within 5 accuracy points of the backprop RNN autoencoder
  at the largest label count on at least two datasets (a difference of means);
- a variant that meets the main target holds out of its datasets only if it also beats `none` and
  `hebb` on digits and, meta-trained without a dataset, still beats them on every dataset where it
  won when meta-trained on all.
"""

from __future__ import annotations

from metahebb.evaluation import above
from metahebb.params import CompareParams, MetaParams
from metahebb.report import get

STRETCH_POINTS = 0.05
FIXED = ("none", "hebb")


def _get(node: dict, *keys: str) -> dict:
    return get(node, *keys, where="meta_compare/")


def _cell(s: dict | None, digits: int = 3) -> str:
    return "–" if s is None else f"{s['mean']:.{digits}f} ± {s['ci95']:.{digits}f}"


def _runs(s: dict) -> str:
    return f"{s['run_min']:.3f}–{s['run_max']:.3f}"


def beats(
    results: dict,
    variant: str,
    others: tuple[str, ...],
    target: str,
    labels: list[int],
    section: str = "targets",
) -> bool:
    """The variant's interval lies above every one of `others`' at every label count, on `target`."""
    return all(
        above(
            _get(results, variant, section, target, f"svm_n{n}"),
            _get(results, ref, "targets", target, f"svm_n{n}"),
        )
        for n in labels
        for ref in others
    )


def beats_fixed(
    results: dict, variant: str, target: str, labels: list[int], section: str = "targets"
) -> bool:
    """The variant beats both fixed rules (`none`, `hebb` with homeostasis) at every label count."""
    return beats(results, variant, FIXED, target, labels, section)


def table_markdown(results: dict, timing: dict, backprop: dict, targets: list[str], labels: list[int]) -> str:
    """One line per (target, variant): SVM accuracy per label count, EMD, distinct codes, meta-training time."""
    head = [f"SVM@{n}" for n in labels] + ["EMD", "codes", f"runs' SVM@{labels[-1]}", "meta-train s"]
    lines = [
        "| target | variant | " + " | ".join(head) + " |",
        "|---" * (len(head) + 2) + "|",
    ]
    for t in targets:
        for variant, r in results.items():
            scores = _get(r, "targets", t)
            cells = [_cell(_get(scores, f"svm_n{n}")) for n in labels]
            cells += [_cell(scores.get("emd")), _cell(scores["codes"], 0)]
            cells += [_runs(_get(scores, f"svm_n{labels[-1]}")) if r["meta_runs"] else "–"]
            seconds = _get(timing, variant, "meta_train_seconds")["mean"]
            cells += [f"{seconds:.0f}" if r["meta_runs"] else "–"]
            lines.append(f"| {t} | {variant} | " + " | ".join(cells) + " |")
        if t in backprop:
            cells = [_cell(backprop[t].get(f"n{n}")) for n in labels] + ["–"] * 4
            lines.append(f"| {t} | backprop RNN | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def results_section(
    results: dict, timing: dict, backprop: dict, targets: list[str], labels: list[int]
) -> str:
    """The table with its heading and how to read it, for `reports/results.md`."""
    return "\n".join(
        [
            "## Outer optimisers x meta-objectives x rule parameterisations",
            "",
            "Variants are `<rule>-<optimizer>-<objective>` (README), each meta-trained once per meta seed; "
            "every run's rule then trains fresh networks per seed on each target, with `train_hebbian`'s "
            "schedule. Cells: mean ± 95% interval over all (meta run, seed) pairs; `runs'` is the range of "
            "the per-run means; `codes`: distinct codes of x_{T+1} on the test points; `meta-train s`: mean "
            "wall time of one meta-training run on one core. The targets and the leave-one-dataset-out "
            "runs are judged in `reports/report.md`.",
            "",
            table_markdown(results, timing, backprop, targets, labels),
            "",
        ]
    )


def leave_one_out_markdown(results: dict, labels: list[int]) -> str:
    lines = [
        "| variant | held-out dataset | "
        + " | ".join(f"SVM@{n}" for n in labels)
        + " | codes | beats none and hebb |",
        "|---" * (len(labels) + 4) + "|",
    ]
    for variant, r in results.items():
        for t, scores in r.get("leave_one_out", {}).items():
            cells = [_cell(_get(scores, f"svm_n{n}")) for n in labels] + [_cell(scores["codes"], 0)]
            verdict = "yes" if beats_fixed(results, variant, t, labels, "leave_one_out") else "no"
            lines.append(f"| {variant} | {t} | " + " | ".join(cells) + f" | {verdict} |")
    return "\n".join(lines)


def _headline_targets(
    main: dict[str, list[str]], stretch: dict[str, list[str]], labels: list[int]
) -> list[str]:
    """The main and stretch targets: met by which variants (and on which datasets), or not."""
    met = [v for v, ts in main.items() if len(ts) >= 2]
    stretch_met = [v for v, ts in stretch.items() if len(ts) >= 2]
    return [
        "- Main target (a meta-learned rule beats both `none` and `hebb` at "
        + " and ".join(str(n) for n in labels)
        + " labels on at least two of the three datasets): "
        + (
            "**met** by " + ", ".join(f"`{v}` ({', '.join(main[v])})" for v in met)
            if met
            else "**not met**; best: "
            + ", ".join(f"`{v}` ({', '.join(ts) or 'none'})" for v, ts in main.items())
        )
        + ".",
        f"- Stretch target (within {STRETCH_POINTS * 100:.0f} points of the backprop RNN at {labels[-1]} labels on "
        "at least two datasets): "
        + (
            "**met** by " + ", ".join(f"`{v}` ({', '.join(stretch[v])})" for v in stretch_met)
            if stretch_met
            else "**not met**"
        )
        + ".",
    ]


def _held_out_line(results: dict, v: str, won: list[str], labels: list[int]) -> str:
    """Whether variant `v`, which met the main target on `won`, holds on data it was not meta-trained on."""
    digits = "digits" in _get(results, v, "targets") and beats_fixed(results, v, "digits", labels)
    held = _get(results, v).get("leave_one_out", {})
    loo = [t for t in held if beats_fixed(results, v, t, labels, "leave_one_out")]
    lost = [t for t in won if t in held and t not in loo]  # won with all datasets, not without it
    if held:
        robust = "**yes**" if digits and not lost else "**no**"
    else:
        robust = "**no**" if not digits else "not tested without leave-one-dataset-out runs"
    return (
        f"- `{v}` on held-out data: digits {'beats' if digits else 'does not beat'} `none` and `hebb`; "
        + (
            f"meta-trained without the target it still beats both on {len(loo)} of {len(held)} datasets"
            + (f" ({', '.join(loo)})" if loo else "")
            + (f" and loses its win on {', '.join(lost)}" if lost else "")
            if held
            else "no leave-one-dataset-out runs here (add it to `meta_compare.leave_one_out`)"
        )
        + f". Holds out of its datasets (the issue's test): {robust}."
    )


def _against_default(
    results: dict, learned: list[str], default: str, datasets: list[str], labels: list[int]
) -> str:
    better = [
        v
        for v in learned
        if v != default and sum(beats(results, v, (default,), t, labels) for t in datasets) >= 2
    ]
    return (
        f"- Against the pipeline's own rule (`{default}`): "
        + (
            "beaten at every label count on at least two datasets by " + ", ".join(f"`{v}`" for v in better)
            if better
            else "no variant beats it at every label count on two or more datasets, so it stays the default"
        )
        + "."
    )


def targets_markdown(
    results: dict, backprop: dict, datasets: list[str], labels: list[int], default: str | None = None
) -> list[str]:
    """One line per target of the issue, saying plainly whether it was met and by which variants.

    `default` names the variant that reproduces the pipeline's own rule: a variant should replace
    it only if it beats it and holds on held-out data.
    """
    learned = [v for v, r in results.items() if r["meta_runs"]]
    main = {v: [t for t in datasets if beats_fixed(results, v, t, labels)] for v in learned}
    top = labels[-1]
    stretch = {
        v: [
            t
            for t in datasets
            if t in backprop
            and backprop[t][f"n{top}"]["mean"] - _get(results, v, "targets", t, f"svm_n{top}")["mean"]
            <= STRETCH_POINTS
        ]
        for v in learned
    }
    lines = _headline_targets(main, stretch, labels)
    lines += [_held_out_line(results, v, main[v], labels) for v, ts in main.items() if len(ts) >= 2]
    if default in results:
        lines.append(_against_default(results, learned, default, datasets, labels))
    return lines


def default_variant(meta: MetaParams) -> str:
    """The meta_compare variant that is the pipeline's own rule: the first meta-trained rule, as configured."""
    return f"{meta.rules[0]}-{meta.optimizer}-{meta.objective}"


def comparison_markdown(
    results: dict,
    backprop: dict,
    datasets: list[str],
    params: CompareParams,
    default: str | None = None,
    table_figure: bool = False,
) -> str:
    """The report's comparison section: the targets, leave-one-dataset-out runs, the drawn `table` rules."""
    targets, labels = [d for d in datasets if d in params.targets], params.labels
    lines = [
        "\n".join(targets_markdown(results, backprop, targets, labels, default)),
        "",
        "The whole table (every variant on every target, with EMD, codes and meta-training time) is in "
        "the full results below.",
    ]
    if any("leave_one_out" in r for r in results.values()):
        lines += ["", "Leave-one-dataset-out meta-training, judged on the held-out dataset:", ""]
        lines += [leave_one_out_markdown(results, labels)]
    if table_figure:
        lines += ["", "![table rules](report/table_rules.png)"]
    return "\n".join(lines)
