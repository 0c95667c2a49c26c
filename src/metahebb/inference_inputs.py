"""What the run-level tests are judged on, read from the run tables of meta_compare, meta_tasks,
baselines and confirm; and how many labelled points each variant's meta-training saw."""

from __future__ import annotations

import pandas as pd

from metahebb.artifacts import load_json, load_table
from metahebb.inference_report import Evidence
from metahebb.params import LABEL_OBJECTIVES, Params, parse_variant
from metahebb.task_study import TASKS

COLUMNS = ("run", "target", "view", "score", "seed_index", "value")
REQUIRED = ("seed_index", "value")  # the numeric ones (load_table checks they are numbers)


def uses_labels(variant: str) -> bool:
    return parse_variant(variant)[2] in LABEL_OBJECTIVES


def meta_trained(p: Params) -> list[str]:
    return p.meta_compare.variants.gradient + p.meta_compare.variants.es


def variant_tables(p: Params, main: str, loo: str) -> dict[str, dict[str, pd.DataFrame]]:
    """Per meta-trained variant, the table of each target it is judged on. A variant whose
    meta-training saw labels is judged on a meta-training dataset only by the runs that left it
    out (`loo`), so it never profits from labels of the generator it is judged on."""
    targets, held_out = p.meta_compare.targets, p.meta_train.datasets
    out = {}
    for v in meta_trained(p):
        table = load_table(main.format(v), REQUIRED)
        if not uses_labels(v):
            out[v] = {t: table for t in targets}
            continue
        by_target = {t: table for t in targets if t not in held_out}
        if v in p.meta_compare.leave_one_out.names:
            loo_table = load_table(loo.format(v), REQUIRED)
            by_target |= {t: loo_table for t in targets if t in held_out}
        out[v] = dict(sorted(by_target.items(), key=lambda kv: targets.index(kv[0])))
    return out


def task_tables(p: Params, table: str) -> dict[str, dict[str, pd.DataFrame]]:
    """Per tasks variant (`<variant>@tasks`), its run table for every target: no point or label of
    any target reached its meta-training (`metahebb.tasks`), so it is judged on all of them."""
    out = {}
    for v in p.tasks.variants:
        frame = load_table(table.format(v), REQUIRED)
        out[v + TASKS] = {t: frame for t in p.meta_compare.targets}
    return out


def references(p: Params, folder: str, fixed_folder: str) -> dict[str, pd.DataFrame]:
    """`none` (with homeostasis, as meta_compare runs it), then every baseline of `metahebb.baselines`."""
    from metahebb.baselines import reference_names

    refs = {"none": load_table(f"{fixed_folder}/none.csv", REQUIRED)}
    return refs | {n: load_table(f"{folder}/{n}.csv", REQUIRED) for n in reference_names(p.baselines)}


def constant_table(values: dict[str, dict[int, float]]) -> pd.DataFrame:
    """A reference known only by its mean per target and label count (one run, one seed)."""
    rows = [
        ("mean", t, view, f"svm_n{n}", 0, v)
        for t, by_n in values.items()
        for n, v in by_n.items()
        for view in ("last", "concat")
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def development(p: Params, backprop_rnn: dict[str, dict[int, float]]) -> Evidence:
    return Evidence(
        variant_tables(p, "metrics/meta_compare/runs/{}.csv", "metrics/meta_compare_loo/runs/{}.csv")
        | task_tables(p, "metrics/meta_tasks/runs/{}.csv"),
        references(p, "metrics/baselines/runs", "metrics/meta_compare/runs"),
        constant_table(backprop_rnn),
        list(p.meta_compare.labels),
    )


def confirmatory(p: Params) -> Evidence:
    return Evidence(
        variant_tables(p, "metrics/confirm/runs/{}.csv", "metrics/confirm/loo/runs/{}.csv")
        | task_tables(p, "metrics/meta_tasks/confirm/{}.csv"),
        references(p, "metrics/confirm/runs", "metrics/confirm/runs"),
        load_table("metrics/confirm/runs/backprop-rnn.csv", REQUIRED),
        list(p.meta_compare.labels),
    )


def label_budgets(p: Params, n_train: dict[str, int]) -> list[str]:
    """One line per meta-trained variant: the labelled points its meta-training could draw (the
    validation parts of the meta-training datasets), and how it is judged because of them."""
    fraction, datasets = p.meta_train.validation_fraction, p.meta_train.datasets
    pool = {d: round(fraction * n_train[d]) for d in datasets}
    lines = []
    for v in meta_trained(p):
        if not uses_labels(v):
            lines.append(f"- `{v}`: 0 labels (its objective reads no label).")
            continue
        loo = v in p.meta_compare.leave_one_out.names
        judged = "its leave-one-dataset-out runs on the 2D datasets, and digits" if loo else "digits only"
        lines.append(
            f"- `{v}`: up to {sum(pool.values())} labelled validation points "
            f"({', '.join(f'{d} {n}' for d, n in pool.items())}), {p.meta_train.objective_labels} per "
            f"network per step; judged by {judged}."
        )
    return lines + task_budgets(p)


def task_budgets(p: Params) -> list[str]:
    """One line per tasks variant: the labelled points of generated tasks its meta-training drew,
    as its stage counted them (metrics/meta_tasks/<variant>.json)."""
    seen = {
        v: load_json(f"metrics/meta_tasks/{v}.json", ("labels_seen_per_run",))["labels_seen_per_run"]
        for v in p.tasks.variants
    }
    return [
        f"- `{v}{TASKS}`: {n} labelled points, all of generated tasks ({', '.join(p.tasks.families)}; "
        f"{p.tasks.per_generation} fresh tasks per generation), none of any target; judged on every target."
        for v, n in seen.items()
    ]


def collapsed_runs(
    p: Params,
    main: str = "metrics/meta_compare/runs/{}.csv",
    tasks: str = "metrics/meta_tasks/runs/{}.csv",
) -> list[str]:
    """Per meta-trained variant: its runs whose networks collapse (fewer than
    train_hebbian.collapse_codes distinct last-state codes on a target), named."""
    lines = []
    tables = {v: main.format(v) for v in meta_trained(p)}
    tables |= {v + TASKS: tasks.format(v) for v in p.tasks.variants}
    for v, path in tables.items():
        table = load_table(path, REQUIRED)
        codes = table[(table.view == "last") & (table.score == "codes")]
        low = codes[codes.value < p.train_hebbian.collapse_codes]
        runs = sorted(set(low.run))
        where = "; ".join(f"{r}: {', '.join(sorted(set(low[low.run == r].target)))}" for r in runs)
        total = codes.run.nunique()
        lines.append(
            f"- `{v}`: {len(runs)} of {total} runs collapse somewhere" + (f" ({where})." if runs else ".")
        )
    return lines
