#!/usr/bin/env python3
"""What queue admission and scale to zero change on a bursty load (the queueing-and-zero
experiment: `policy_config.admission`, `policy_config.min_workers_gpu` and
`policy_config.scale_to_zero_delay` swept).

Usage:  scripts/plot_queueing_zero.py OUT_DIR [--figures DIR]

One series per configuration (mean over seeds, 95 % intervals as error bars), each with its own
marker and colour (at most 8). Writes into DIR (default figures/<OUT_DIR name>/):

  queueing-and-zero.png      left: SLO violations against cost; right: goodput (queries served
                             within their SLO per second) against cold starts
  queueing-and-zero.md/.csv  the same numbers, with the mean cold-start wait and the outcomes
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402

EXPERIMENT = "queueing-and-zero"
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
COLORS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B2", "#937860", "#DA8BC3", "#8C8C8C"]
OUTCOMES = ["met", "late", "expired_in_queue", "shed", "rejected"]


def nan_to_zero(x: float) -> float:
    return x if x == x else 0.0


def label(values: dict, keys: list) -> str:
    return ", ".join(f"{pc.short_key(k)}={shown(values.get(k))}" for k in keys) or "default"


def shown(value) -> str:
    """A swept value as written (0 is a value, not the default)."""
    return "default" if value is None or value == "" else pc.fmt_value(value)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    pc.common_args(parser, EXPERIMENT)
    args = parser.parse_args(argv)
    sweep = pc.load_or_exit(args.out_dir, pc.sweep_command(EXPERIMENT, args.out_dir))
    pc.style()
    figs = pc.Figures(args.figures or pc.default_figures_dir(sweep, EXPERIMENT))
    keys = sweep.varying_keys()
    groups = list(pc.group_points(sweep.points, keys).items())
    if len(groups) > len(MARKERS):
        sys.exit(f"plot_queueing_zero: {len(groups)} configurations, at most {len(MARKERS)} fit one panel; sweep fewer values")

    fig, (left, right) = pc.plt.subplots(1, 2, figsize=(12, 5))
    rows = []
    for i, (config, points) in enumerate(groups):
        values = dict(zip(keys, config))
        name = label(values, keys)
        viol = pc.mean_ci([p.metric("slo_violation_pct") for p in points])
        cost = pc.mean_ci([p.metric("total_cost_usd") for p in points])
        good = pc.mean_ci([p.metric("outcome_met") / p.metric("simulated_s") for p in points])
        cold = pc.mean_ci([p.metric("cold_starts") for p in points])
        wait = pc.mean_ci([p.metric("cold_start_wait_ms_mean") for p in points])
        total = [sum(p.metric("outcome_" + o) for o in OUTCOMES) for p in points]
        share = {o: pc.mean_ci([100 * p.metric("outcome_" + o) / t for p, t in zip(points, total) if t > 0])[0] for o in OUTCOMES}
        style = dict(marker=MARKERS[i], color=COLORS[i], markersize=9, linestyle="none", capsize=3, label=name)
        left.errorbar(cost[0], viol[0], xerr=nan_to_zero(cost[1]), yerr=nan_to_zero(viol[1]), **style)
        right.errorbar(cold[0], good[0], xerr=nan_to_zero(cold[1]), yerr=nan_to_zero(good[1]), **style)
        rows.append([shown(values.get(k)) for k in keys]
                    + [pc.fmt_ci(viol[0], viol[1]), pc.fmt_ci(good[0], good[1]), pc.fmt_ci(cost[0], cost[1]),
                       pc.fmt_ci(cold[0], cold[1], digits=0), pc.fmt_ci(wait[0], wait[1], digits=0)]
                    + [f"{share[o]:.2f}" for o in OUTCOMES] + [len(points)])
    left.set_xlabel("cost (USD)")
    left.set_ylabel("SLO violations (% of queries)")
    right.set_xlabel("cold starts (query-started loads + workers woken)")
    right.set_ylabel("goodput (queries within SLO per s)")
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=2, bbox_to_anchor=(0.5, 0.0), frameon=False, fontsize=8)
    figs.save(fig, "queueing-and-zero.png")
    header = [pc.short_key(k) for k in keys] + ["SLO violations %", "goodput q/s", "cost USD", "cold starts",
                                                "cold-start wait ms"] + [f"{o} %" for o in OUTCOMES] + ["seeds"]
    figs.table("queueing-and-zero", header, rows, title="Queue admission and scale to zero on a bursty load",
               notes=["Cold starts: loads a query started and waited for, plus workers launched because a query found "
                      "its class at zero; the wait is the mean of the queries that waited for one (from arrival to a replica)."])
    figs.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
