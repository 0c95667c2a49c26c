from __future__ import annotations

import pytest

from metahebb.report import MissingMetricError, emd_verdict, results_markdown


def _scores(emd):
    return {
        "latent": {
            "emd": {"mean": emd, "std": 0.01, "ci95": 0.02},
            "svm_acc": {"n8": {"mean": 0.9, "std": 0.0, "ci95": 0.0}},
        }
    }


def test_verdicts():
    def s(mean, ci):
        return {"mean": mean, "std": ci / 2, "ci95": ci}

    assert emd_verdict(s(0.1, 0.01), s(0.3, 0.01)).endswith(": reproduces")
    assert "not established" in emd_verdict(s(0.1, 0.1), s(0.15, 0.1))
    assert "does not reproduce" in emd_verdict(s(0.5, 0.01), s(0.1, 0.01))


def test_table_and_missing_metric_fails_loudly():
    scores = {"mlp": {"moons": _scores(0.3)}, "rnn": {"moons": _scores(0.1)}}
    train = {"mlp": {"moons": {"plateau": {"0": 1}}}, "rnn": {"moons": {"plateau": {"0": 0}}}}
    text = results_markdown(["moons"], ["mlp", "rnn"], scores, train, ["8"], "def")
    assert "| moons | 0.3000 ± 0.0100 | 0.1000 ± 0.0100 | 0.1415 | 0.285 |" in text
    assert "moons: RNN < MLP beyond the 95% intervals: reproduces" in text
    assert "mlp/moons seed 0" in text
    del scores["rnn"]["moons"]["latent"]["svm_acc"]["n8"]
    with pytest.raises(MissingMetricError, match="n8"):
        results_markdown(["moons"], ["mlp", "rnn"], scores, train, ["8"], "def")
