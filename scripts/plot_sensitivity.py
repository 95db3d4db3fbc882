#!/usr/bin/env python3
"""How sensitive SLO violations and cost are to each swept knob (the sensitivity experiment,
e.g. autoscaler thresholds swept as `policy_config.<name>` keys).

Usage:  scripts/plot_sensitivity.py OUT_DIR [--figures DIR]

One panel column per swept key: the key's values on the x axis, the other keys held at their
reference value (the value most points share, ties going to the first in index.csv; an empty
cell means "not overridden" = the experiment's default). A swept `policy` draws one line per
policy. Writes into DIR (default figures/<OUT_DIR name>/):

  sensitivity.png        per key: SLO violations (%) and total cost (USD) vs the key's values,
                         mean over seeds with 95 % t-interval error bars (dashed: the point with
                         every key at its default, when the sweep has one)
  sensitivity.md/.csv    the same numbers, plus throughput, and what the other keys were held at
"""

from __future__ import annotations

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402

EXPERIMENT = "sensitivity"
METRICS = [("slo_violation_pct", "SLO violations (%)"), ("total_cost_usd", "total cost (USD)")]


def reference_values(sweep, keys) -> dict:
    """The value of each key that most points share (ties: first seen in index.csv)."""
    ref = {}
    for k in keys:
        counts: dict = {}
        for p in sweep.points:
            v = p.keys.get(k, "")
            counts[v] = counts.get(v, 0) + 1
        ref[k] = max(counts, key=lambda v: counts[v])  # max keeps the first of equal counts
    return ref


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    pc.common_args(parser, EXPERIMENT)
    args = parser.parse_args(argv)
    sweep = pc.load_or_exit(args.out_dir, pc.sweep_command(EXPERIMENT, args.out_dir))
    pc.style()
    figs = pc.Figures(args.figures or pc.default_figures_dir(sweep, EXPERIMENT))

    keys = sweep.varying_keys(exclude=("policy",))
    if not keys:
        sys.exit(f"error: {args.out_dir}/index.csv sweeps no key besides policy and seed "
                 f"(columns: {', '.join(sweep.keys) or 'none'})")
    policies = sweep.values("policy")
    colors = pc.policy_colors(policies)
    ref = reference_values(sweep, keys)
    defaults = [p for p in sweep.points if all(p.keys.get(k, "") == "" for k in keys)]

    fig, axes = pc.plt.subplots(len(METRICS), len(keys), figsize=(4.2 * len(keys) + 0.5, 6.4),
                                squeeze=False, sharex="col")
    rows = []
    for col, key in enumerate(keys):
        others = [k for k in keys if k != key]
        held = [p for p in sweep.points if all(p.keys.get(k, "") == ref[k] for k in others)]
        values = [v for v in sweep.values(key) if v != ""]
        values = [v for v in values if any(p.keys.get(key) == v for p in held)]
        numeric = all(is_number(v) for v in values)
        xs = values if numeric else list(range(len(values)))
        held_text = ", ".join(f"{pc.short_key(k)}={pc.fmt_value(ref[k])}" for k in others) or "—"
        for policy in policies:
            groups = [[p for p in held if p.keys.get(key) == v and p.keys.get("policy") == policy]
                      for v in values]
            if not any(groups):
                continue
            label = policy if len(policies) > 1 else None
            for row, (metric, ylabel) in enumerate(METRICS):
                ax = axes[row][col]
                stats = [pc.mean_ci(p.metric(metric) for p in g) for g in groups]
                ax.errorbar(xs, [s[0] for s in stats],
                            yerr=[s[1] if math.isfinite(s[1]) else 0 for s in stats],
                            marker="o", capsize=4, color=colors[policy], label=label)
                base = [p for p in defaults if p.keys.get("policy") == policy]
                if base:
                    m = pc.mean_ci(p.metric(metric) for p in base)[0]
                    ax.axhline(m, color=colors[policy], linestyle="--", linewidth=0.9,
                               label=f"all defaults{' (' + policy + ')' if label else ''}")
            for v, g in zip(values, groups):
                if not g:
                    continue
                cells = [pc.fmt_ci(*pc.mean_ci(p.metric(m) for p in g)[:2], 4 if m == "total_cost_usd" else 2)
                         for m, _ in METRICS + [("throughput_qps", "")]]
                if pc.has_oracle(sweep.points):
                    cells += pc.oracle_cells(g)
                rows.append([key, pc.fmt_value(v), policy, len(g), *cells, held_text])
        for row, (metric, ylabel) in enumerate(METRICS):
            ax = axes[row][col]
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0)
            if row == 0:
                ax.set_title(pc.short_key(key) + (f"\n(others: {held_text})" if others else ""),
                             fontsize=9)
            if row == len(METRICS) - 1:
                ax.set_xlabel(pc.short_key(key))
                if not numeric:
                    ax.set_xticks(xs)
                    ax.set_xticklabels([pc.fmt_value(v) for v in values])
            handles, _ = ax.get_legend_handles_labels()
            if handles:
                ax.legend(loc="best")
    nseeds = len(sweep.seeds())
    fig.suptitle(f"{sweep.experiment}: sensitivity to each swept key — mean over "
                 f"{nseeds} seed{'s' if nseeds > 1 else ''}, error bars 95 % CI")
    fig.tight_layout()
    figs.save(fig, "sensitivity.png")
    figs.table("sensitivity", ["key", "value", "policy", "seeds", "SLO violations (%)", "cost (USD)",
                               "throughput (q/s)"] + (pc.ORACLE_HEADER if pc.has_oracle(sweep.points) else [])
               + ["other keys held at"], rows,
               title=f"{sweep.experiment}: one key at a time, mean ± 95 % CI over seeds")
    figs.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
