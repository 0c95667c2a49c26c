"""End-to-end `dvc repro` of the pipeline from a clean copy, per stage, then a no-op `dvc repro`.

python benchmarks/pipeline_timing.py [--quick] [--source worktree|head] [--device auto|cpu|cuda] [--out PATH]

The copy is a fresh git + DVC repository in a temporary folder holding either the files git would commit
from this checkout (`worktree`, the default: tracked and untracked-but-not-ignored files, so work not yet
committed is timed too) or `git archive HEAD` (`head`). Nothing comes from this checkout's DVC cache or
data/. The timed run is `dvc repro --force`, so every stage runs even where a committed dvc.lock and
git-tracked metrics would let DVC skip one. A stage's time runs from DVC's "Running stage" line to the
next one (or the end), so it includes DVC's own hashing and lock writing for that stage. The copy imports
its own `src/` (PYTHONPATH), not the editable install of this checkout. `--quick` shrinks params.yaml
(fewer points, epochs, steps, seeds and SVM draws) to time the machinery rather than the science.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import torch
import yaml
from timing import REPO, arguments, environment, table, write_json

QUICK = {  # group -> key -> value; keys missing from params.yaml are left alone
    "data": {"n_samples": 200},
    "backprop": {"epochs": 5, "seeds": [0]},
    "evaluate": {"emd_points": 100, "svm_draws": 2, "svm_labels": [2, 8, "all"]},
    "meta_train": {"steps": 10, "population": 4},
    "train_hebbian": {"epochs": 1, "seeds": [0]},
}
STAGE = re.compile(r"Running stage '([^']+)'")


def copy_source(dest: Path, source: str) -> None:
    if source == "head":
        archive = subprocess.run(["git", "archive", "HEAD"], cwd=REPO, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
        return
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    for rel in filter(None, listing.decode().split("\0")):
        src = REPO / rel
        if src.is_file():  # a tracked file deleted in the worktree is not copied
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def edit_params(path: Path, quick: bool, device: str) -> dict:
    params = yaml.safe_load(path.read_text())
    changed = {}
    edits = {**(QUICK if quick else {}), "runtime": {"device": device}}
    for group, values in edits.items():
        for key, value in values.items():
            if isinstance(params.get(group), dict) and key in params[group]:
                params[group][key] = value
                changed[f"{group}.{key}"] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return changed


def run(cmd: list[str], cwd: Path, env: dict) -> None:
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)


def timed_repro(cwd: Path, env: dict, args: list[str], log: Path) -> tuple[float, list[dict], int]:
    """Wall time of `dvc repro ARGS`, with each stage's share from the time stamps of DVC's lines."""
    start = time.perf_counter()
    stages: list[dict] = []
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["dvc", "repro", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in proc.stdout:
            now = time.perf_counter() - start
            out.write(f"{now:9.2f}  {line}")
            hit = STAGE.search(line)
            if hit:
                if stages:
                    stages[-1]["seconds"] = now - stages[-1]["start"]
                stages.append({"stage": hit.group(1), "start": now})
        code = proc.wait()
    total = time.perf_counter() - start
    if stages:
        stages[-1]["seconds"] = total - stages[-1]["start"]
    return total, stages, code


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], "pipeline_timing.json")
    parser.add_argument("--source", choices=("worktree", "head"), default="worktree")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: no CUDA device is present; use --device auto or cpu")
    device = torch.device("cuda" if args.device != "cpu" and torch.cuda.is_available() else "cpu")

    bin_dir = Path(sys.executable).parent
    tmp = Path(tempfile.mkdtemp(prefix="metahebb-pipeline-"))
    work = tmp / "metahebb"
    work.mkdir()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "DVC_NO_ANALYTICS": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(work / "src"),
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@localhost",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@localhost",
    }
    try:
        copy_source(work, args.source)
        changed = edit_params(work / "params.yaml", args.quick, args.device)
        run(["git", "init", "-q"], work, env)
        if not (work / ".dvc").exists():
            run(["dvc", "init", "-q"], work, env)
        run(["git", "add", "-A"], work, env)
        run(["git", "commit", "-q", "-m", "clean copy"], work, env)
        print(f"clean copy ({args.source}) in {work}; params changed: {changed or 'none'}", flush=True)

        log = tmp / "repro.log"
        total, stages, code = timed_repro(work, env, ["--force"], log)
        if code:
            tail = log.read_text().splitlines()[-15:]
            sys.exit(f"dvc repro failed (exit {code}); last lines of {log}:\n" + "\n".join(tail))
        noop, skipped_stages, code = timed_repro(work, env, [], tmp / "noop.log")
        if code or skipped_stages:
            sys.exit(f"the second dvc repro was not a no-op (exit {code}, ran {len(skipped_stages)} stages)")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    for s in stages:
        s["share"] = s["seconds"] / total
    print()
    print(table(stages, [("stage", "stage", ""), ("seconds", "seconds", ".1f"), ("share", "share", ".1%")]))
    print(f"\ndvc repro --force: {total:.1f} s for {len(stages)} stages; no-op dvc repro: {noop:.1f} s")
    families: dict[str, float] = {}
    for s in stages:
        family = s["stage"].split("@")[0]
        families[family] = families.get(family, 0.0) + s["seconds"]
    write_json(
        args.out,
        {
            "benchmark": "pipeline_timing",
            "environment": environment(device),
            "source": args.source,
            "quick": args.quick,
            "params_changed": changed,
            "repro_seconds": total,
            "noop_repro_seconds": noop,
            "stages": stages,
            "stage_families_seconds": families,
        },
    )


if __name__ == "__main__":
    main()
