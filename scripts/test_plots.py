#!/usr/bin/env python3
"""Smoke test for the plot scripts: builds tiny fake sweep folders from a few short real
`infaas simulate` runs and runs every plot script on them.

Usage:  scripts/test_plots.py [--keep DIR]

The binary is $INFAAS, else .build/release/infaas (scripts/build makes it). Skips (exit 0,
with a message) when numpy/h5py/matplotlib or the binary are missing. No pytest needed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
INDEX_METRICS = ["queries", "served", "slo_violation_pct", "throughput_qps", "p50_ms", "p99_ms",
                 "total_cost_usd", "mean_accuracy"]


def skip(message: str) -> None:
    print(f"SKIP test_plots: {message}")
    sys.exit(0)


def simulate(binary: str, out: str, args: list) -> None:
    subprocess.run([binary, "simulate", *args, "-o", out, "--quiet"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def write_sweep(root: str, points: list) -> str:
    """points: (id, source run folder, seed, overrides). Copies each run into ROOT/<id>/ and
    writes point.json and index.csv the way `infaas sweep` does."""
    os.makedirs(root, exist_ok=True)
    keys = []
    for _, _, _, overrides in points:
        keys += [k for k in overrides if k not in keys]
    with open(os.path.join(root, "index.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", *keys, "seed", *INDEX_METRICS])
        for pid, source, seed, overrides in points:
            shutil.copytree(source, os.path.join(root, pid))
            with open(os.path.join(root, pid, "point.json"), "w") as pj:
                json.dump({"id": pid, "seed": seed, "overrides": overrides}, pj)
            with open(os.path.join(source, "summary.json")) as sj:
                s = json.load(sj)
            values = {"queries": s["queries"], "served": s["served"],
                      "slo_violation_pct": s["slo_violation_percent"],
                      "throughput_qps": s["throughput_qps"], "p50_ms": s["latency_ms"]["p50"],
                      "p99_ms": s["latency_ms"]["p99"], "total_cost_usd": s["total_cost_usd"],
                      "mean_accuracy": s.get("mean_accuracy", "")}
            w.writerow([pid, *(overrides.get(k, "") for k in keys), seed,
                        *(values[m] for m in INDEX_METRICS)])
    return root


def make_fake_sweeps(binary: str, work: str) -> dict:
    """Four sweep folders, one per experiment, from eight sub-second runs."""
    runs = os.path.join(work, "runs")
    quick = {}
    for policy in ("infaas", "static"):
        for seed in (1, 2):
            out = os.path.join(runs, f"{policy}-{seed}")
            simulate(binary, out, ["--experiment", "experiments/quickstart.yaml", "--policy", policy,
                                   "--seed", str(seed), "--duration", "120"])
            quick[policy, seed] = out
    grid = {}
    for acc in (70, 76):
        for slo in (50, 200):
            out = os.path.join(runs, f"acc{acc}-slo{slo}")
            simulate(binary, out, ["--trace", "traces/AzureLLMInferenceTrace_code.csv",
                                   "--target", "classification/imagenet", "--min-accuracy", str(acc),
                                   "--slo-ms", str(slo), "--duration", "120", "--rate-scale", "10",
                                   "--workers", "cpu=1,gpu=1", "--max-workers", "cpu=8,gpu=4,inf=4"])
            grid[acc, slo] = out
    sweeps = {}
    sweeps["throughput-slo-cost"] = write_sweep(os.path.join(work, "throughput-slo-cost"), [
        (f"{p}-s{s}", quick[p, s], s, {"policy": p}) for p in ("infaas", "static") for s in (1, 2)])
    sweeps["autoscaling-timeline"] = write_sweep(os.path.join(work, "autoscaling-timeline"), [
        (f"{p}-s{s}", quick[p, s], s, {"policy": p}) for p in ("infaas", "static") for s in (1, 2)])
    sweeps["accuracy-latency-tradeoff"] = write_sweep(
        os.path.join(work, "accuracy-latency-tradeoff"),
        [(f"acc{a}-slo{l}-s1", grid[a, l], 1,
          {"applications.0.min_accuracy": a, "applications.0.slo_ms": l})
         for a in (70, 76) for l in (50, 200)])
    # One-at-a-time design: each row overrides one key, the other left at its default ('').
    # (The runs behind the labels differ in policy only to give the panels some spread.)
    sens = []
    for i, value in enumerate((0.7, 0.9)):
        for s in (1, 2):
            sens.append((f"a{value}-s{s}", quick[("infaas", "static")[i], s], s,
                         {"policy": "infaas", "policy_config.scale_out_threshold": value}))
    for i, value in enumerate((2, 4)):
        for s in (1, 2):
            sens.append((f"b{value}-s{s}", quick[("static", "infaas")[i], s], s,
                         {"policy": "infaas", "policy_config.scale_in_periods": value}))
    sweeps["sensitivity"] = write_sweep(os.path.join(work, "sensitivity"), sens)
    # Queueing: two admission modes (the static runs stand in for the shedding one; the script
    # reads each run's outcome counts from its results.h5).
    queue = []
    for i, mode in enumerate(("always", "shed-if-late")):
        for s in (1, 2):
            queue.append((f"q-{mode}-s{s}", quick[("infaas", "static")[i], s], s, {"policy_config.admission": mode}))
    sweeps["queueing"] = write_sweep(os.path.join(work, "queueing"), queue)
    return sweeps


def run_script(name: str, out_dir: str, figures: str) -> str:
    started = time.time()
    result = subprocess.run([sys.executable, os.path.join(HERE, name), out_dir, "--figures", figures],
                            capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout)
        print(result.stderr, file=sys.stderr)
        raise AssertionError(f"{name} failed with exit status {result.returncode}")
    print(f"ok   {name} ({time.time() - started:.1f} s)")
    return result.stdout


def assert_files(figures: str, names: list) -> None:
    for name in names:
        path = os.path.join(figures, name)
        assert os.path.isfile(path), f"missing {path}"
        assert os.path.getsize(path) > 0, f"empty {path}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", metavar="DIR", help="build the fake sweeps and figures in DIR "
                                                      "and keep them (default: a temp dir)")
    args = parser.parse_args()
    try:
        import numpy, h5py, matplotlib  # noqa: F401,E401
    except ImportError as error:
        skip(f"needs numpy, h5py and matplotlib ({error})")
    binary = os.environ.get("INFAAS") or os.path.join(ROOT, ".build", "release", "infaas")
    if not os.access(binary, os.X_OK):
        skip(f"no infaas binary at {binary} (run scripts/build or set INFAAS)")

    work = args.keep or tempfile.mkdtemp(prefix="infaas-plots-")
    if args.keep and os.path.exists(work):
        shutil.rmtree(work)
    started = time.time()
    sweeps = make_fake_sweeps(binary, work)
    print(f"built fake sweeps in {work} ({time.time() - started:.1f} s)")
    fig = lambda name: os.path.join(work, "figures", name)  # noqa: E731

    out = run_script("plot_throughput_slo_cost.py", sweeps["throughput-slo-cost"], fig("tsc"))
    assert_files(fig("tsc"), ["policies.png", "ratios.png", "ratios.md", "ratios.csv",
                              "policies.md", "policies.csv"])
    with open(os.path.join(fig("tsc"), "ratios.csv")) as f:
        rows = list(csv.DictReader(f))
    baselines = [r["baseline"] for r in rows]
    assert baselines == ["static", "average over baselines"], f"ratio rows: {baselines}"
    assert rows[0]["paired seeds"] == "2", rows[0]
    assert "×" in rows[0]["throughput × (infaas/baseline)"], rows[0]
    with open(os.path.join(fig("tsc"), "ratios.md")) as f:
        md = f.read()
    assert "| static |" in md and "ATC'21" in md and "1.3×" in md, md
    assert "wrote" in out

    run_script("plot_autoscaling_timeline.py", sweeps["autoscaling-timeline"], fig("ast"))
    assert_files(fig("ast"), ["timeline-infaas.png", "timeline-static.png", "timeline-compare.png"])

    run_script("plot_accuracy_latency.py", sweeps["accuracy-latency-tradeoff"], fig("alt"))
    assert_files(fig("alt"), ["tradeoff.png", "tradeoff.md", "tradeoff.csv",
                              "variants.md", "variants.csv"])
    with open(os.path.join(fig("alt"), "variants.csv")) as f:
        assert len(list(csv.DictReader(f))) == 4, "one variants row per (accuracy, SLO) point"

    run_script("plot_sensitivity.py", sweeps["sensitivity"], fig("sens"))
    assert_files(fig("sens"), ["sensitivity.png", "sensitivity.md", "sensitivity.csv"])
    with open(os.path.join(fig("sens"), "sensitivity.csv")) as f:
        keys = {r["key"] for r in csv.DictReader(f)}
    assert keys == {"policy_config.scale_out_threshold", "policy_config.scale_in_periods"}, keys

    run_script("plot_queueing.py", sweeps["queueing"], fig("queue"))
    assert_files(fig("queue"), ["queueing.png", "queueing.md", "queueing.csv"])
    with open(os.path.join(fig("queue"), "queueing.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [r["admission"] for r in rows] == ["always", "shed-if-late"], rows
    for r in rows:
        total = sum(float(r[f"{o} %"]) for o in ("met", "late", "expired_in_queue", "shed", "rejected"))
        assert abs(total - 100) < 0.01, f"outcomes should cover every query: {r}"

    # A missing folder is a clear error naming the path and the command that makes it.
    result = subprocess.run([sys.executable, os.path.join(HERE, "plot_sensitivity.py"),
                             os.path.join(work, "nope")], capture_output=True, text=True)
    assert result.returncode != 0 and "nope" in result.stderr and "infaas sweep" in result.stderr, \
        result.stderr

    if not args.keep:
        shutil.rmtree(work)
    print(f"PASS test_plots ({time.time() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
