#!/usr/bin/env python3
"""Compares a live replay and a simulation of the same experiment (both results.h5 + summary.json).

Usage: python3 scripts/fidelity_compare.py LIVE_DIR SIM_DIR
Prints a Markdown table: latency p50/p99, SLO-violation rate, variant choices, scale events, and
whether the goals hold (simulated p99 within 10 % of live, violation rate within 2 points).
"""
import json
import os
import sys


def load(folder):
    path = os.path.join(folder, "summary.json")
    if not os.path.exists(path):
        sys.exit(f"fidelity_compare: {path} is missing (run scripts/fidelity, or infaas replay / simulate -o {folder})")
    with open(path) as f:
        summary = json.load(f)
    variants, workers = {}, []
    try:
        import h5py
        with h5py.File(os.path.join(folder, "results.h5"), "r") as h5:
            names = [n.decode() if isinstance(n, bytes) else n for n in h5["variants/name"][:]]
            for name, count in zip(names, h5["variants/queries"][:]):
                if count:
                    variants[name] = int(count)
            workers = [int(x) for x in h5["timeseries/workers_cpu"][:]]
    except ImportError:
        pass
    return summary, variants, workers


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    live, live_variants, live_workers = load(sys.argv[1])
    sim, sim_variants, sim_workers = load(sys.argv[2])

    def latency(s, key):
        return s.get("latency_ms", {}).get(key, s.get(f"{key}_ms", float("nan")))

    def changes(series):
        return sum(1 for a, b in zip(series, series[1:]) if a != b)

    rows = [
        ("queries", live.get("queries"), sim.get("queries")),
        ("served", live.get("served"), sim.get("served")),
        ("latency p50 (ms)", latency(live, "p50"), latency(sim, "p50")),
        ("latency p99 (ms)", latency(live, "p99"), latency(sim, "p99")),
        ("SLO violations (%)", live.get("slo_violation_percent"), sim.get("slo_violation_percent")),
        ("max CPU workers", max(live_workers or [0]), max(sim_workers or [0])),
        ("worker-count changes", changes(live_workers), changes(sim_workers)),
    ]
    print("| measure | live | simulated |")
    print("|---|---|---|")
    for name, a, b in rows:
        fa = f"{a:.2f}" if isinstance(a, float) else str(a)
        fb = f"{b:.2f}" if isinstance(b, float) else str(b)
        print(f"| {name} | {fa} | {fb} |")
    names = sorted(set(live_variants) | set(sim_variants))
    for n in names:
        print(f"| queries on {n} | {live_variants.get(n, 0)} | {sim_variants.get(n, 0)} |")
    p99_live, p99_sim = latency(live, "p99"), latency(sim, "p99")
    gap_p99 = abs(p99_sim - p99_live) / p99_live * 100 if p99_live else float("nan")
    gap_slo = abs(sim.get("slo_violation_percent", 0) - live.get("slo_violation_percent", 0))
    print()
    print(f"simulated p99 is {gap_p99:.1f} % from live (goal ≤ 10 %): {'met' if gap_p99 <= 10 else 'not met'}")
    print(f"SLO-violation rate differs by {gap_slo:.2f} points (goal ≤ 2): {'met' if gap_slo <= 2 else 'not met'}")


if __name__ == "__main__":
    main()
