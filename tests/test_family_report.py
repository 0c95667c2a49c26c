"""The report's rule-family table (issue 15): parameters, seconds, confirmatory means, verdicts."""

from __future__ import annotations

import dataclasses

import pandas as pd
import torch

from metahebb.artifacts import save_json, save_torch
from metahebb.family_report import family_markdown, parameters
from metahebb.params import parse_params


def test_parameters_count_every_entry_of_a_theta():
    assert parameters({"a": torch.zeros(3, 4), "b": torch.zeros(5)}) == 17


def _cell(mean: float) -> dict:
    return {"svm_n8": {"mean": mean}, "svm_n32": {"mean": mean + 0.1}}


def test_the_table_reads_each_variants_files_and_the_corrected_tests(raw, tmp_path, monkeypatch):
    p = parse_params(raw)
    p = dataclasses.replace(
        p,
        tasks=dataclasses.replace(p.tasks, variants=["table-es-labels_acc"]),
        meta_compare=dataclasses.replace(p.meta_compare, targets=["moons", "blobs"], labels=[8, 32]),
    )
    monkeypatch.chdir(tmp_path)
    v = "table-es-labels_acc"
    save_torch(f"data/meta_tasks/{v}.pt", {"thetas": {"seed0": {"w": torch.zeros(87)}}})
    save_json(f"metrics/meta_tasks/timing/{v}.json", {"meta_train_seconds": {"mean": 251.4}})
    views = {
        "last": {"moons": _cell(0.75), "blobs": _cell(0.85)},
        "concat": {"moons": _cell(0.8), "blobs": _cell(0.9)},
    }
    save_json(f"metrics/meta_tasks/{v}.json", {"confirm": views})
    row = dict(variant=f"{v}@tasks", claim="beats", draw="confirmatory", view="last")
    tests = pd.DataFrame(
        [
            {**row, "target": "moons", "against": "raw", "score": "svm_n8", "holds": True},
            {**row, "target": "moons", "against": "none", "score": "svm_n8", "holds": False},
            {**row, "target": "blobs", "against": "raw", "score": "svm_n8", "holds": True},
            {**row, "target": "blobs", "against": "none", "score": "svm_n8", "holds": True},
            {
                **row,
                "target": "blobs",
                "against": "raw",
                "score": "svm_n8",
                "holds": True,
                "draw": "development",
            },
            {**row, "target": "moons", "against": "raw", "score": "svm_n8", "holds": False, "view": "concat"},
        ]
    )
    text = family_markdown(p, tests)
    assert f"| {v} | table | 87 | 251 | 0.750 / 0.800 | 0.850 / 0.900 | last | moons, blobs | blobs |" in text
    assert "|  |  |  |  |  |  | concat | none | none |" in text
