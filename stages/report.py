"""Stage report: `reports/report.md` and its figures in `reports/report/`: every claim of the paper
beside our numbers, from metrics only; and `reports/timing.md`, every recorded wall time.

python stages/report.py
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from metahebb import capacity_report, figures, schedule_report, stage
from metahebb.artifacts import load_table, load_text, save_figure, save_table, save_text
from metahebb.capacity import REFERENCES, size_name
from metahebb.claims import check_claims
from metahebb.compare_report import comparison_markdown, default_variant
from metahebb.family_report import family_markdown
from metahebb.inference_inputs import collapsed_runs, confirmatory, development, label_budgets
from metahebb.inference_report import run_level_section
from metahebb.params import load_params
from metahebb.report_inputs import (
    accuracy_grid,
    backprop_accuracy,
    drawn_tables,
    drawn_tasks_rules,
    load_comparison,
    load_metrics,
    load_semi_supervised,
    reference_accuracy,
    revision,
)
from metahebb.report_sections import report_markdown
from metahebb.schedule import mode_name
from metahebb.target_report import SizeAndMode, target_section
from metahebb.task_validation_report import held_out_section
from metahebb.timing_report import timing_markdown

log = logging.getLogger("report")
OUT = Path("reports/report")


def save(name: str, fig) -> None:
    save_figure(OUT / name, fig)
    figures.close(fig)


def main(argv: list[str]) -> None:
    p = load_params()
    datasets, semi, general, compare, meta = (
        p.datasets,
        p.semi_supervised,
        p.generalisation,
        p.meta_compare,
        p.meta_train,
    )
    models = ["raw", "true", *p.backprop.architectures, *p.train_hebbian.rules, *meta.rules]

    metrics = load_metrics(datasets, models, semi, general)
    verdicts = check_claims(metrics)
    codes, labels, epochs, accuracy = load_semi_supervised(datasets, semi.rule)
    fig = figures.semi_supervised_figure(codes, labels, epochs, accuracy, "readout_reuse", semi.curve_labels)
    save("semi_supervised.png", fig)
    title = f"SVM test accuracy, {general.labels} labels, `{general.rule}` rule"
    grid = accuracy_grid(metrics.matrix, general.targets)
    save("generalisation.png", figures.generalisation_heatmap(grid, title))
    tables = drawn_tables(compare, p.rules, p.kcap_rnn.T)
    if tables:
        save("table_rules.png", figures.rule_tables(tables))
    tasks_rules = drawn_tasks_rules(p.tasks.variants, p.rules, p.kcap_rnn.T, compare.meta_seeds[0])
    if tasks_rules:
        save("tasks_rules.png", figures.rule_tables(tasks_rules))
    comparison = comparison_markdown(
        load_comparison(compare),
        backprop_accuracy(metrics.evaluate, datasets),
        datasets,
        compare,
        default_variant(meta),
        table_figure=bool(tables),
    )

    n_train = p.data.n_samples - round(p.data.n_samples * p.data.test_fraction)
    notes = label_budgets(p, dict.fromkeys(meta.datasets, n_train))
    notes += ["", "Collapsed runs (development draw):", "", *collapsed_runs(p)]
    run_level, tests = run_level_section(
        development(p, reference_accuracy(metrics.evaluate, datasets, "rnn", compare.labels)),
        confirmatory(p),
        [ds for ds in datasets if ds in compare.targets],
        notes,
    )
    save_table("metrics/inference/tests.csv", tests)
    capacity, capacity_tests = capacity_report.capacity_section(
        swept_runs("capacity", p.capacity.variants), compare.labels, p.train_hebbian.collapse_codes
    )
    save_table("metrics/inference/capacity.csv", capacity_tests)
    schedule, schedule_tests = schedule_report.schedule_section(
        swept_runs("schedule", p.schedule.variants),
        compare.labels,
        p.train_hebbian.batch_size,
        p.train_hebbian.collapse_codes,
    )
    save_table("metrics/inference/schedule.csv", schedule_tests)
    held_out, held_out_tests = held_out_section(
        {
            v: load_table(f"metrics/task_validation/runs/{v}.csv", ("draw", "seed_index", "value"))
            for v in p.tasks.variants
        },
        compare.labels,
    )
    save_table("metrics/inference/task_validation.csv", held_out_tests)
    own = SizeAndMode(
        size_name(p.kcap_rnn.m, p.kcap_rnn.k), mode_name(p.train_hebbian.batch_size, scaled=False)
    )
    targets = target_section(tests, capacity_tests, schedule_tests, compare.labels, own, held_out_tests)
    families = family_markdown(p, tests, figure="report/tasks_rules.png" if tasks_rules else None)
    text = report_markdown(
        verdicts,
        results=load_text("reports/results.md"),
        semi=metrics.semi,
        semi_labels=semi.labels,
        matrix=metrics.matrix,
        params=Path("params.yaml").read_text(),
        revision=revision(),
        comparison="\n\n".join([comparison, run_level, families, held_out, capacity, schedule, targets]),
    )
    save_text("reports/report.md", text)
    save_text("reports/timing.md", timing_markdown(Path("metrics"), Path("benchmarks/results")))
    log.info("%d claims checked: %s", len(verdicts), ", ".join(v.verdict.split(":")[0] for v in verdicts))


def swept_runs(study: str, variants: list[str]) -> pd.DataFrame:
    """A sweep's run tables (metrics/<study>/runs/: the references', then each variant's) as one."""
    names = [REFERENCES, *variants]
    tables = [load_table(f"metrics/{study}/runs/{n}.csv", ("seed_index", "value")) for n in names]
    return pd.concat(tables, ignore_index=True)


if __name__ == "__main__":
    stage.run(main)
