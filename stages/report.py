"""Stage report: `reports/report.md`, every claim of the paper beside our numbers, from metrics only.

python stages/report.py
"""

from __future__ import annotations

import logging
import subprocess
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from metahebb import figures, stage
from metahebb.artifacts import load_arrays, load_json, load_torch, save_figure, save_text
from metahebb.claims import Metrics, check_claims
from metahebb.compare_report import leave_one_out_markdown, targets_markdown
from metahebb.latents import load_latents
from metahebb.params import (
    BackpropParams,
    CompareParams,
    GeneralisationParams,
    HebbianParams,
    KCapRNNParams,
    MetaParams,
    RuleParams,
    SemiSupervisedParams,
    load_datasets,
    load_group,
)
from metahebb.report import report_markdown
from metahebb.rules import MATRICES, make_rule

log = logging.getLogger("report")
OUT = Path("reports/report")


def revision() -> str:
    """The git commit the run started from (marked when the working tree differed), and tool versions."""
    tools = f"DVC {version('dvc')}, torch {version('torch')}"
    git = ["git", "-c", "core.quotepath=off"]
    try:
        sha = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
        )
    except (OSError, subprocess.CalledProcessError):
        return f"no git revision; {tools}"
    changed = " + uncommitted changes" if dirty.stdout.strip() else ""
    return f"git {sha.stdout.strip()}{changed}; {tools}"


def default_variant() -> str:
    """The meta_compare variant that is the pipeline's own rule: the first meta-trained rule, as configured."""
    meta = load_group(MetaParams, "meta_train")
    return f"{meta.rules[0]}-{meta.optimizer}-{meta.objective}"


def comparison_section(datasets: list[str], params: CompareParams, evaluate: dict) -> str:
    """Markdown of the rules x optimisers x objectives comparison, and the drawn `table` rules."""
    results = {v: load_json(f"metrics/meta_compare/{v}.json") for v in params.variants.names}
    for v in params.leave_one_out.names:
        results[v]["leave_one_out"] = load_json(f"metrics/meta_compare_loo/{v}.json")["leave_one_out"]
    backprop = {
        ds: next(iter(evaluate["rnn"][ds].values()))["svm_acc"] for ds in datasets if "rnn" in evaluate
    }
    tables = {}  # the first meta seed's rule of every `table` variant, drawn
    rules, T = load_group(RuleParams, "rules"), load_group(KCapRNNParams, "kcap_rnn").T
    for variant in [v for v in params.variants.names if v.startswith("table-")]:
        theta = load_torch(f"data/meta_compare/{variant}.pt")["thetas"][f"seed{params.meta_seeds[0]}"]
        rule = make_rule("table", rules, T, theta=theta)
        tables[variant] = {m: rule.tabulate(m) for m in MATRICES}
    lines = [
        "\n".join(
            targets_markdown(
                results,
                backprop,
                [d for d in datasets if d in params.targets],
                params.labels,
                default_variant(),
            )
        ),
        "",
        "The whole table (every variant on every target, with EMD, codes and meta-training time) is in "
        "the full results below.",
    ]
    if any("leave_one_out" in r for r in results.values()):
        lines += ["", "Leave-one-dataset-out meta-training, judged on the held-out dataset:", ""]
        lines += [leave_one_out_markdown(results, params.labels)]
    if tables:
        fig = figures.rule_tables(tables)
        save_figure(OUT / "table_rules.png", fig)
        figures.close(fig)
        lines += ["", "![table rules](report/table_rules.png)"]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    datasets = load_datasets()
    semi = load_group(SemiSupervisedParams, "semi_supervised")
    general = load_group(GeneralisationParams, "generalisation")
    models = ["raw", "true", *load_group(BackpropParams, "backprop").architectures]
    models += load_group(HebbianParams, "train_hebbian").rules + load_group(MetaParams, "meta_train").rules

    metrics = Metrics(
        datasets=datasets,
        evaluate={m: {ds: load_json(f"metrics/evaluate/{ds}/{m}.json") for ds in datasets} for m in models},
        train={m: {ds: load_json(f"metrics/train/{ds}/{m}.json") for ds in datasets} for m in models[2:]},
        semi={ds: load_json(f"metrics/semi_supervised/{ds}.json") for ds in datasets},
        matrix=load_json("metrics/generalisation/matrix.json"),
        labels=general.labels,
        semi_labels=semi.labels,
        sources=general.sources,
    )
    verdicts = check_claims(metrics)

    data = {ds: load_arrays(f"data/datasets/{ds}.npz", required=("y", "is_test")) for ds in datasets}
    codes = {ds: load_latents(f"data/latents/{ds}/{semi.rule}.npz")[0]["last"][1][0] for ds in datasets}
    labels = {ds: d["y"][d["is_test"]] for ds, d in data.items()}
    epochs = {ds: pd.read_csv(f"metrics/semi_supervised/{ds}_epochs.csv") for ds in datasets}
    accuracy = {ds: pd.read_csv(f"metrics/semi_supervised/{ds}_accuracy.csv") for ds in datasets}
    fig = figures.semi_supervised_figure(codes, labels, epochs, accuracy, "readout_reuse", semi.curve_labels)
    save_figure(OUT / "semi_supervised.png", fig)
    figures.close(fig)
    matrix = pd.DataFrame(
        {
            t: {row: cells[t]["svm_acc"]["mean"] for row, cells in metrics.matrix.items()}
            for t in general.targets
        }
    )
    fig = figures.generalisation_heatmap(
        matrix, f"SVM test accuracy, {general.labels} labels, `{general.rule}` rule"
    )
    save_figure(OUT / "generalisation.png", fig)
    figures.close(fig)

    comparison = comparison_section(datasets, load_group(CompareParams, "meta_compare"), metrics.evaluate)

    text = report_markdown(
        verdicts,
        results=Path("reports/results.md").read_text(),
        semi=metrics.semi,
        semi_labels=semi.labels,
        matrix=metrics.matrix,
        params=Path("params.yaml").read_text(),
        revision=revision(),
        comparison=comparison,
    )
    save_text("reports/report.md", text)
    log.info("%d claims checked: %s", len(verdicts), ", ".join(v.verdict.split(":")[0] for v in verdicts))


if __name__ == "__main__":
    stage.run(main)
