#!/usr/bin/env python3
"""What an application's accuracy floor and latency SLO cost (the accuracy-latency-tradeoff
experiment): cost, SLO violations and accuracy served over the swept floor x SLO grid, and which
variants INFaaS picked at each point.

Usage:  scripts/plot_accuracy_latency.py OUT_DIR [--figures DIR] [--accuracy-key KEY] [--slo-key KEY]

The two axes are the swept keys whose names contain "accuracy" and "slo" (else the first two
swept keys; override with --accuracy-key/--slo-key). Further swept keys (a policy, say) give one
set of figures per combination. Writes into DIR (default figures/<OUT_DIR name>/):

  tradeoff[-<cond>].png   heatmaps over accuracy floor x SLO (line plots when only one key is
                          swept): total cost (USD), SLO violations (%), mean accuracy served (%),
                          means over seeds
  tradeoff.md/.csv        per point: mean ± 95 % CI of cost, violations, accuracy, throughput, p99
  variants.md/.csv        per point: the top variants by queries served (from /variants, summed
                          over seeds) with their share, and how many variants served any query
"""

from __future__ import annotations

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402

EXPERIMENT = "accuracy-latency-tradeoff"
METRICS = [("total_cost_usd", "total cost (USD)", "viridis", "{:.3g}"),
           ("slo_violation_pct", "SLO violations (%)", "Reds", "{:.1f}"),
           ("mean_accuracy", "mean accuracy served (%)", "Blues", "{:.1f}")]
TOP = 3


def pick_axes(sweep, accuracy_key, slo_key):
    varying = sweep.varying_keys()
    for key in (accuracy_key, slo_key):
        if key and key not in sweep.keys:
            sys.exit(f"error: no swept key {key!r} in {sweep.out_dir}/index.csv "
                     f"(swept: {', '.join(sweep.keys)})")
    acc = accuracy_key or next((k for k in varying if "accuracy" in k.lower()), None)
    slo = slo_key or next((k for k in varying if "slo" in k.lower() and k != acc), None)
    # Without such names, fall back to the other swept keys, a swept policy last (it reads
    # better as one figure per policy than as a heatmap axis).
    spare = sorted((k for k in varying if k not in (acc, slo)), key=lambda k: k == "policy")
    if acc is None and spare and spare[0] != "policy":
        acc = spare.pop(0)
    if slo is None and spare and spare[0] != "policy":
        slo = spare.pop(0)
    if acc is None and slo is None and spare:
        acc = spare.pop(0)
    rest = [k for k in varying if k not in (acc, slo)]
    return [k for k in (acc, slo) if k], rest


def cell_stats(points):
    return {m: pc.mean_ci(p.metric(m) for p in points) for m in
            ["total_cost_usd", "slo_violation_pct", "mean_accuracy", "throughput_qps", "p99_ms"]}


def heatmaps(figs, sweep, axes_keys, groups, title, name):
    ykey, xkey = axes_keys
    yvals, xvals = sweep.values(ykey), sweep.values(xkey)
    fig, axes = pc.plt.subplots(1, 3, figsize=(4.2 * 3, 0.5 * len(yvals) + 3))
    for ax, (metric, label, cmap, fmt) in zip(axes, METRICS):
        grid = pc.np.full((len(yvals), len(xvals)), pc.np.nan)
        for (yv, xv), pts in groups.items():
            grid[yvals.index(yv), xvals.index(xv)] = pc.mean_ci(p.metric(metric) for p in pts)[0]
        image = ax.imshow(grid, cmap=cmap, aspect="auto", origin="lower")
        for i in range(len(yvals)):
            for j in range(len(xvals)):
                if math.isfinite(grid[i, j]):
                    shade = image.norm(grid[i, j])  # 0..1 along the colour map
                    dark = shade < 0.45 if cmap == "viridis" else shade > 0.6
                    ax.text(j, i, fmt.format(grid[i, j]), ha="center", va="center", fontsize=7,
                            color="white" if dark else "black")
                else:  # no point there, or nothing served (accuracy of no query)
                    ax.text(j, i, "n/a", ha="center", va="center", fontsize=7, color="gray")
        ax.set_xticks(range(len(xvals)))
        ax.set_xticklabels([pc.fmt_value(v) for v in xvals])
        ax.set_yticks(range(len(yvals)))
        ax.set_yticklabels([pc.fmt_value(v) for v in yvals])
        ax.set_xlabel(axis_label(xkey))
        ax.set_ylabel(axis_label(ykey))
        ax.set_title(label)
        ax.grid(False)
        fig.colorbar(image, ax=ax, label=label)
    fig.suptitle(title)
    fig.tight_layout()
    figs.save(fig, name)


def lines(figs, sweep, key, groups, title, name):
    values = sweep.values(key)
    numeric = all(isinstance(v, (int, float)) for v in values)
    fig, axes = pc.plt.subplots(1, 3, figsize=(12, 3.8))
    for ax, (metric, label, _, _) in zip(axes, METRICS):
        stats = [pc.mean_ci(p.metric(metric) for p in groups.get((v,), [])) for v in values]
        xs = values if numeric else list(range(len(values)))
        ax.errorbar(xs, [s[0] for s in stats], yerr=[s[1] if math.isfinite(s[1]) else 0 for s in stats],
                    marker="o", capsize=4)
        if not numeric:
            ax.set_xticks(xs)
            ax.set_xticklabels([pc.fmt_value(v) for v in values])
        ax.set_xlabel(axis_label(key))
        ax.set_ylabel(label)
        ax.set_title(label.split(" (")[0])
    fig.suptitle(title)
    fig.tight_layout()
    figs.save(fig, name)


def axis_label(key: str) -> str:
    k = key.lower()
    if "accuracy" in k:
        return f"accuracy floor ({pc.short_key(key)}, %)"
    if "slo" in k or k.endswith("_ms"):
        return f"latency SLO ({pc.short_key(key)}, ms)"
    return pc.short_key(key)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    pc.common_args(parser, EXPERIMENT)
    parser.add_argument("--accuracy-key", metavar="KEY", help="swept key on the y axis")
    parser.add_argument("--slo-key", metavar="KEY", help="swept key on the x axis")
    args = parser.parse_args(argv)
    sweep = pc.load_or_exit(args.out_dir, pc.sweep_command(EXPERIMENT, args.out_dir))
    pc.style()
    figs = pc.Figures(args.figures or pc.default_figures_dir(sweep, EXPERIMENT))

    axes_keys, rest = pick_axes(sweep, args.accuracy_key, args.slo_key)
    if not axes_keys:
        sys.exit(f"error: {args.out_dir}/index.csv has no swept key with more than one value "
                 f"(keys: {', '.join(sweep.keys) or 'none'})")
    conditions = pc.group_points(sweep.points, rest)
    table_rows, variant_rows = [], []
    for cond, points in conditions.items():
        label = ", ".join(f"{pc.short_key(k)}={pc.fmt_value(v)}" for k, v in zip(rest, cond))
        suffix = "".join("-" + pc.fmt_value(v) for v in cond).replace("/", "_")
        groups = pc.group_points(points, axes_keys)
        nseeds = max(len(p) for p in groups.values())
        title = (f"{sweep.experiment}: {' × '.join(axis_label(k).split(' (')[0] for k in axes_keys)}"
                 f"{' (' + label + ')' if label else ''}"
                 f" — mean over {nseeds} seed{'s' if nseeds > 1 else ''}")
        if len(axes_keys) == 2:
            heatmaps(figs, sweep, axes_keys, groups, title, f"tradeoff{suffix}.png")
        else:
            lines(figs, sweep, axes_keys[0], groups, title, f"tradeoff{suffix}.png")

        for values, pts in groups.items():
            s = cell_stats(pts)
            head = [*(pc.fmt_value(v) for v in cond), *(pc.fmt_value(v) for v in values), len(pts)]
            table_rows.append(head + [pc.fmt_ci(*s["total_cost_usd"][:2], 4),
                                      pc.fmt_ci(*s["slo_violation_pct"][:2], 2),
                                      pc.fmt_ci(*s["mean_accuracy"][:2], 2),
                                      pc.fmt_ci(*s["throughput_qps"][:2], 2),
                                      pc.fmt_ci(*s["p99_ms"][:2], 1)]
                              + (pc.oracle_cells(pts) if pc.has_oracle(sweep.points) else []))
            served: dict = {}
            for p in pts:
                for name, count in p.variants().items():
                    served[name] = served.get(name, 0) + count
            total = sum(served.values())
            top = sorted(served.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
            text = "; ".join(f"{n} {100 * c / total:.0f} %" for n, c in top) if total else "(none served)"
            variant_rows.append(head + [len(served), text])

    header = [pc.short_key(k) for k in rest] + [axis_label(k) for k in axes_keys] + ["seeds"]
    figs.table("tradeoff", header + ["cost (USD)", "SLO violations (%)", "mean accuracy (%)",
                                     "throughput (q/s)", "p99 (ms)"]
               + (pc.ORACLE_HEADER if pc.has_oracle(sweep.points) else []), table_rows,
               title=f"{sweep.experiment}: mean ± 95 % CI over seeds")
    figs.table("variants", header + ["variants used", f"top {TOP} variants (share of served queries)"],
               variant_rows, title=f"{sweep.experiment}: variants chosen per point (all seeds)")
    figs.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
