"""Stage figures: the paper's Figures 2 and 3 redrawn from our runs, and `reports/results.md`.

python stages/figures.py
"""

from __future__ import annotations

import logging

from metahebb import figures, stage
from metahebb.artifacts import save_figure, save_text
from metahebb.params import load_params
from metahebb.study_figures import draw, load_results, results_text

log = logging.getLogger("figures")
OUT = "reports/figures"


def main(argv: list[str]) -> None:
    p = load_params()
    learned, evaluate, compare = p.meta_train.rules, p.evaluate, p.meta_compare
    rules = p.train_hebbian.rules + learned
    results = load_results(
        p.datasets, p.backprop.architectures, rules, learned, p.rules, p.kcap_rnn.T, compare.variants.names
    )
    for name, fig in draw(results, evaluate):
        save_figure(f"{OUT}/{name}", fig)
        figures.close(fig)
    save_text("reports/results.md", results_text(results, evaluate, compare.targets, compare.labels))
    log.info("wrote %s and reports/results.md", OUT)


if __name__ == "__main__":
    stage.run(main)
