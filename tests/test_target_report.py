"""The report's scoreboard of issue 15's targets, read off the sections' corrected tests."""

from __future__ import annotations

import pandas as pd

from metahebb.target_report import REFERENCES, SHAPES, SizeAndMode, target_section, tried_tests

OWN = SizeAndMode("m64k8", "b32")


def _test(
    variant="r@tasks", target="moons", score="svm_n8", against="raw", difference=-0.1, holds=False, **extra
):
    return {
        "variant": variant, "target": target, "score": score, "against": against,
        "mean_difference": difference, "ci_low": difference - 0.01, "ci_high": difference + 0.01,
        "p_holm": 0.01 if holds else 1.0, "holds": holds, "view": "last", **extra,
    }  # fmt: skip


def _families(*rows: dict) -> pd.DataFrame:
    base = {"claim": "beats", "draw": "confirmatory"}
    return pd.DataFrame([base | r for r in rows])


def test_every_section_joins_with_its_setting_and_only_confirmatory_tasks_beats():
    families = _families(
        _test(),
        _test(variant="paper-rule"),  # not a tasks variant
        _test(draw="development"),
        _test(claim="within", against="backprop RNN"),
    )
    capacity = pd.DataFrame([_test(size="m256k32")])
    schedule = pd.DataFrame([_test(mode="b1-scaled")])
    tried = tried_tests(families, capacity, schedule, OWN)
    assert list(tried.setting) == ["m64k8, b32", "m256k32, b32", "m64k8, b1-scaled"]
    assert list(tried.section) == ["rule families", "capacity", "schedule"]


def test_a_target_is_reached_in_any_setting_and_the_closest_is_named_when_it_is_not():
    families = _families(
        _test(target="circles", difference=-0.2),
        _test(target="moons", difference=-0.05),
        _test(target="blobs", difference=-0.3),
        _test(target="digits", score="svm_n32", difference=-0.12),
        _test(target="circles", score="svm_n32", against="backprop RNN", difference=-0.25, claim="within"),
    )
    capacity = pd.DataFrame(
        [
            _test(target="moons", difference=0.04, holds=True, size="m1024k128"),
            _test(target="blobs", difference=0.03, holds=True, size="m1024k128"),
            _test(target="circles", difference=-0.15, size="m1024k128"),
        ]
    )
    text = target_section(families, capacity, pd.DataFrame(), [8, 32], OWN)
    assert (
        "beats the raw input at 8 labels on >= 2 of circles, moons, blobs | **yes**: at most 2 of 3" in text
    )
    assert (
        "| - circles | no | r@tasks, m1024k128, b32, last | -0.150 [-0.160, -0.140] | 1 (capacity) |" in text
    )
    assert "| - moons | **yes** | r@tasks, m1024k128, b32, last | +0.040" in text
    assert (
        "| digits (held out): beats the raw input at 32 labels | no | r@tasks, m64k8, b32, last | -0.120"
        in text
    )
    assert "circles within 5 points of the backprop RNN autoencoder at 32 labels | no |" in text
    assert "-0.250 [-0.260, -0.240] | 1 (rule families) |" in text


def test_the_references_target_counts_wins_per_reference_of_the_best_variant_and_view():
    rows = [
        _test(variant=v, target=t, score=f"svm_n{n}", against=r, holds=(v == "b@tasks" and r == "none"))
        for v in ("a@tasks", "b@tasks")
        for t in SHAPES
        for n in (8, 32)
        for r in REFERENCES
    ]
    text = target_section(_families(*rows), pd.DataFrame(), pd.DataFrame(), [8, 32], OWN)
    line = next(x for x in text.splitlines() if x.startswith("| beats none, hebb-tuned"))
    assert "| no: at most 6 of 24 tests | b@tasks, m64k8, b32, last |" in line
    assert "tests won of 6 per reference: none 6, hebb-tuned 0, softhebb-tuned 0, krotov-tuned 0" in line


def test_no_tasks_tests_no_section():
    assert (
        target_section(_families(_test(variant="paper-rule")), pd.DataFrame(), pd.DataFrame(), [8, 32], OWN)
        == ""
    )


def test_the_held_out_tasks_line_names_the_closest_run_to_the_raw_input_on_the_rules_own_distribution():
    held_out = pd.DataFrame(
        [
            _test(target="held-out tasks", difference=-0.04),
            _test(target="held-out tasks", difference=-0.02, view="concat"),
            _test(target="held-out tasks", difference=0.05, against="start", holds=True),
        ]
    )
    text = target_section(_families(_test()), pd.DataFrame(), pd.DataFrame(), [8, 32], OWN, held_out)
    line = text.splitlines()[-1]
    assert line.startswith("| context, not a target: on held-out generated tasks")
    assert "| no | r@tasks, m64k8, b32, concat | -0.020 [-0.030, -0.010] | 1 (held-out tasks) |" in line
