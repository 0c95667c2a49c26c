from __future__ import annotations

import pytest

from metahebb.report import MissingMetricError, emd_verdict, results_markdown
from metahebb.report_inputs import accuracy_grid
from metahebb.report_sections import report_markdown


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


def test_report_sections_come_in_order_and_the_comparison_only_when_there_is_one():
    s = {"mean": 0.5, "std": 0.1, "ci95": 0.2}
    semi = {"moons": {"svm": {"n8": s}, "rule": "learned"}}  # non-dict entries are not methods
    matrix = {"all": {"moons": {"svm_acc": s, "emd": s}}}
    text = report_markdown([], "# Results\n\n## A\nbody", semi, [8], matrix, "a: 1\n", "git abc")
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## The paper's claims",
        "## Figure 2: backprop MLP vs RNN autoencoders",
        "## Figure 3: k-cap RNNs trained by frozen rules",
        "## Figure 4: semi-supervised readout trained by the learned rule",
        "## Cross-task generalisation",
        "## Full results",
        "## Parameters",
    ]
    assert "| moons | svm | 0.500 ± 0.200 |" in text and "| all | 0.500 ± 0.200 (EMD 0.50) |" in text
    assert "\n### A\nbody\n" in text and text.endswith("```yaml\na: 1\n```\n")
    compared = report_markdown([], "", semi, [8], matrix, "", "", comparison="TARGETS")
    assert "\n## Beyond the one-step objective" in compared and "\n\nTARGETS\n\n## Full results" in compared


def test_accuracy_grid_is_rows_by_targets_of_mean_accuracy():
    matrix = {
        row: {t: {"svm_acc": {"mean": acc + i}} for i, t in enumerate(["a", "b"])}
        for row, acc in (("all", 0.1), ("none", 0.2))
    }
    grid = accuracy_grid(matrix, ["b", "a"])
    assert list(grid.columns) == ["b", "a"] and list(grid.index) == ["all", "none"]
    assert grid.loc["none", "b"] == 1.2


def test_a_tasks_rule_of_any_family_is_drawn_from_its_first_meta_seed(raw, tmp_path, monkeypatch):
    import torch

    from metahebb.artifacts import save_torch
    from metahebb.params import parse_params
    from metahebb.report_inputs import drawn_tasks_rules
    from metahebb.rules import MATRICES, make_rule

    p = parse_params(raw)
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    rule = make_rule("learned", p.rules, p.kcap_rnn.T)
    theta = {k: v + 0.1 * torch.randn_like(v) for k, v in rule.state_dict().items()}
    other = {k: torch.zeros_like(v) for k, v in theta.items()}
    save_torch("data/meta_tasks/learned-es-labels_acc.pt", {"thetas": {"seed3": theta, "seed0": other}})
    drawn = drawn_tasks_rules(["learned-es-labels_acc"], p.rules, p.kcap_rnn.T, seed=3)
    assert list(drawn) == ["learned-es-labels_acc@tasks"] and list(
        drawn["learned-es-labels_acc@tasks"]
    ) == list(MATRICES)
    rule.load_state_dict(theta)
    for m in MATRICES:
        assert torch.equal(torch.as_tensor(drawn["learned-es-labels_acc@tasks"][m]["values"]),
                           torch.as_tensor(rule.tabulate(m)["values"]))  # fmt: skip
