from __future__ import annotations

import copy
import dataclasses

import pytest

from metahebb.claims import CLAIMS, Metrics, above, check_claims, interval
from metahebb.report import MissingMetricError
from metahebb.report_sections import report_markdown


def s(mean: float, ci: float = 0.01) -> dict:
    return {"mean": mean, "std": ci, "ci95": ci}


def view(emd: float, acc: float) -> dict:
    near = {"trustworthiness": s(1.0 - emd), "continuity": s(1.0 - emd)}
    return {"last": {"emd": s(emd), "emd_scale": s(emd), "neighbourhood": near, "svm_acc": {"n32": s(acc)}}}


def metrics() -> Metrics:
    datasets = ["circles", "moons"]
    accs = {
        "raw": 0.9,
        "mlp": 0.8,
        "rnn": 0.9,
        "none": 0.6,
        "hebb": 0.7,
        "learned": 0.85,
        "learned_extended": 0.84,
    }
    evaluate = {m: {ds: view(0.1 if m == "rnn" else 0.3, a) for ds in datasets} for m, a in accs.items()}
    train = {m: {ds: {"final_mse": s(1e-4 if m == "rnn" else 2e-4, 1e-5), "distinct_codes_last": 80.0,
                      "plateau_runs": int(m == "mlp")} for ds in datasets} for m in accs}  # fmt: skip
    semi_methods = {"readout_reuse": 0.9, "readout_reuse_on_none": 0.7, "logreg": 0.9, "mlp_raw": 0.8}
    semi = {
        ds: {m: {"n2": s(0.6), "n8": s(a), "n32": s(a)} for m, a in semi_methods.items()} for ds in datasets
    }
    matrix = {
        r: {t: {"svm_acc": s(0.6 if r == "none" else 0.8)} for t in datasets} for r in ["circles", "none"]
    }
    return Metrics(
        datasets, evaluate, train, semi, matrix, labels=32, semi_labels=[2, 8, 32], sources=["circles"]
    )


def test_every_claim_gives_a_verdict():
    verdicts = check_claims(metrics())
    assert len(verdicts) == len(CLAIMS)
    assert verdicts[0].verdict.startswith("reproduced")  # RNN EMD 0.1 vs MLP 0.3 everywhere
    assert verdicts[1].verdict.startswith("reproduced")  # and under every other reading
    assert "Plateaued runs (all datasets): rnn 0, mlp 2" in verdicts[1].ours
    assert verdicts[5].verdict.startswith("not reproduced")  # extended field is not worse here


def test_a_missing_metric_fails_loudly():
    m = metrics()
    broken = copy.deepcopy(m.semi)
    del broken["moons"]["logreg"]
    with pytest.raises(MissingMetricError, match="logreg"):
        check_claims(dataclasses.replace(m, semi=broken))


def test_interval_and_strict_comparison():
    assert interval(s(0.5, 0.1)) == "0.500 [0.400, 0.600]"
    assert above(s(0.8, 0.05), s(0.6, 0.05)) and not above(s(0.65, 0.05), s(0.6, 0.05))


def test_report_lists_claims_and_parameters():
    m = metrics()
    text = report_markdown(
        check_claims(m), "# Results\n\n## A\nbody", m.semi, [2, 8, 32], m.matrix, "a: 1", "abc"
    )
    assert (
        "| 5.1 |" in text and "```yaml\na: 1\n```" in text and "Produced by: abc." in text and "### A" in text
    )
