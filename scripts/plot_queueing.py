#!/usr/bin/env python3
"""What each queueing rule changes (the queueing experiment: `policy_config.admission` and
`policy_config.queue_deadline` swept on a fixed cluster).

Usage:  scripts/plot_queueing.py OUT_DIR [--figures DIR]

One bar per configuration (mean over seeds). Writes into DIR (default figures/<OUT_DIR name>/):

  queueing.png      left: every query by outcome (met, late, expired-in-queue, shed, rejected),
                    percent of queries; right: goodput (queries served within their SLO per
                    second) and p99 latency of served queries
  queueing.md/.csv  the same numbers, with SLO violations and cost
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402

EXPERIMENT = "queueing"
OUTCOMES = [("met", "#55A868"), ("late", "#DD8452"), ("expired_in_queue", "#8172B2"),
            ("shed", "#C44E52"), ("rejected", "#937860")]


def label(point_keys: dict, keys: list) -> str:
    parts = [f"{pc.short_key(k)}={pc.fmt_value(point_keys.get(k, '') or 'default')}" for k in keys]
    return "\n".join(parts) if parts else "default"


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
    groups = pc.group_points(sweep.points, keys)

    names, shares, goodput, p99, rows = [], [], [], [], []
    for config, points in groups.items():
        values = dict(zip(keys, config))
        names.append(label(values, keys))
        total = [sum(p.metric("outcome_" + o) for o, _ in OUTCOMES) for p in points]
        share = {o: pc.mean_ci([100 * p.metric("outcome_" + o) / t for p, t in zip(points, total) if t > 0])[0]
                 for o, _ in OUTCOMES}
        shares.append(share)
        good = pc.mean_ci([p.metric("outcome_met") / p.metric("simulated_s") for p in points])
        tail = pc.mean_ci([p.metric("p99_ms") for p in points])
        viol = pc.mean_ci([p.metric("slo_violation_pct") for p in points])
        cost = pc.mean_ci([p.metric("total_cost_usd") for p in points])
        goodput.append(good[0])
        p99.append(tail[0])
        rows.append([pc.fmt_value(values.get(k, "") or "default") for k in keys]
                    + [f"{share[o]:.2f}" for o, _ in OUTCOMES]
                    + [pc.fmt_ci(viol[0], viol[1]), pc.fmt_ci(good[0], good[1]), pc.fmt_ci(tail[0], tail[1], digits=0),
                       pc.fmt_ci(cost[0], cost[1]), len(points)])

    fig, (left, right) = pc.plt.subplots(1, 2, figsize=(11, 0.55 * len(names) + 2.2), sharey=True)
    ys = list(range(len(names)))
    base = [0.0] * len(names)
    for outcome, color in OUTCOMES:
        widths = [s[outcome] for s in shares]
        left.barh(ys, widths, left=base, color=color, label=outcome.replace("_", "-"))
        base = [b + w for b, w in zip(base, widths)]
    left.set_yticks(ys, names)
    left.invert_yaxis()
    left.set_xlabel("queries (%)")
    left.set_xlim(0, 100)
    left.legend(loc="lower left", ncol=5, bbox_to_anchor=(0, 1.0), frameon=False)
    right.barh(ys, goodput, color="#4C72B0")
    right.set_xlabel("goodput (queries within SLO per s)")
    for y, g, t in zip(ys, goodput, p99):
        right.annotate(f"p99 {t:.0f} ms", (g, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    right.set_xlim(0, max(goodput) * 1.35 if goodput else 1)
    figs.save(fig, "queueing.png")
    header = [pc.short_key(k) for k in keys] + [f"{o} %" for o, _ in OUTCOMES] + [
        "SLO violations %", "goodput q/s", "p99 ms", "cost USD", "seeds"]
    figs.table("queueing", header, rows, title="Queueing rules on a fixed cluster",
               notes=["Outcomes are percent of all queries; goodput counts queries served within their SLO."])
    figs.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
