#!/usr/bin/env python3
"""Throughput, SLO violations and cost per policy, and INFaaS's headline ratios vs each baseline.

Usage:  scripts/plot_throughput_slo_cost.py OUT_DIR [--figures DIR] [--ours POLICY]

Reads a sweep of the `throughput-slo-cost` experiment (policies x seeds; other swept keys, if
any, make one set of figures per combination) and writes into DIR (default figures/<OUT_DIR name>/):

  policies[-<cond>].png   bars: throughput (q/s), SLO violations (%), total cost (USD) per
                          policy, mean over seeds with 95 % t-intervals
  ratios[-<cond>].png     the three ratios of `infaas` vs each baseline beside the paper's
  policies.md/.csv        the per-policy means ± 95 % CI
  ratios.md/.csv          the headline table: throughput ×, SLO violations × fewer, cost × lower
                          (per-seed ratios paired by seed, mean ± 95 % CI) and the paper's numbers
"""

from __future__ import annotations

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402

EXPERIMENT = "throughput-slo-cost"
METRICS = ["throughput_qps", "slo_violation_pct", "total_cost_usd"]

# The paper's headline numbers (ATC'21 abstract).
PAPER = {"throughput": "1.3×", "violations": "1.6× fewer", "cost": "up to 21.6×, 8.5× avg"}
PAPER_VALUES = {"throughput": 1.3, "violations": 1.6, "cost": 8.5}  # cost: the average
PAPER_LINE = {"throughput": "1.3×", "violations": "1.6× fewer", "cost": "8.5× avg (up to 21.6×)"}
PAPER_NOTE = ("Paper: INFaaS (Romero et al., USENIX ATC'21) abstract — 1.3× higher throughput, "
              "1.6× fewer SLO violations, up to 21.6× (8.5× on average) lower cost than "
              "state-of-the-art serving systems. The paper's baselines, workloads and per-figure "
              "numbers could not be confirmed, so ours are comparable in kind, not setup.")


def paired_ratios(ours, base, metric, invert):
    """Per-seed ratios ours/base (or base/ours when invert), paired by seed.

    Returns (list of finite ratios, seeds with a zero denominator)."""
    by_seed = {p.seed: p for p in base}
    ratios, zero = [], 0
    for p in ours:
        q = by_seed.get(p.seed)
        if q is None:
            continue
        num, den = (q.metric(metric), p.metric(metric)) if invert else (p.metric(metric), q.metric(metric))
        if not (math.isfinite(num) and math.isfinite(den)):
            continue
        if den == 0:
            zero += 1
            continue
        ratios.append(num / den)
    return ratios, zero


def ratio_cell(ratios, zero):
    mean, half, n = pc.mean_ci(ratios)
    text = pc.fmt_ci(mean, half, 2, "×")
    if zero:
        text += f" ({zero} seed{'s' if zero > 1 else ''} with 0 in the denominator left out)"
    return text, mean, half


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    pc.common_args(parser, EXPERIMENT)
    parser.add_argument("--ours", default="infaas", metavar="POLICY",
                        help="the policy the ratios are taken for (default: infaas)")
    args = parser.parse_args(argv)
    sweep = pc.load_or_exit(args.out_dir, pc.sweep_command(EXPERIMENT, args.out_dir))
    pc.style()
    figs = pc.Figures(args.figures or pc.default_figures_dir(sweep, EXPERIMENT))

    policies = sorted(sweep.values("policy"), key=lambda p: (p != args.ours, str(p)))
    colors = pc.policy_colors(policies)
    cond_keys = sweep.varying_keys(exclude=("policy",))
    conditions = pc.group_points(sweep.points, cond_keys)

    policy_rows, ratio_rows = [], []
    summary_ratios = {"throughput": [], "violations": [], "cost": []}
    for cond, points in conditions.items():
        label = ", ".join(f"{pc.short_key(k)}={pc.fmt_value(v)}" for k, v in zip(cond_keys, cond))
        suffix = ("-" + "-".join(pc.fmt_value(v) for v in cond)).replace("/", "_") if cond_keys else ""
        by_policy = pc.group_points(points, ["policy"])
        groups = [(pol, by_policy.get((pol,), [])) for pol in policies if by_policy.get((pol,))]

        fig, axes = pc.plt.subplots(1, 3, figsize=(12, 3.8))
        for ax, metric in zip(axes, METRICS):
            stats = [pc.mean_ci(p.metric(metric) for p in pts) for _, pts in groups]
            names = [pol for pol, _ in groups]
            means = [s[0] for s in stats]
            errs = [0 if not math.isfinite(s[1]) else s[1] for s in stats]
            bars = ax.bar(range(len(names)), means, yerr=errs, capsize=4,
                          color=[colors[n] for n in names], edgecolor="black", linewidth=0.5)
            ax.set_xticks(range(len(names)))
            ax.set_xticklabels(names, rotation=30, ha="right")
            ax.set_ylabel(pc.LABELS[metric])
            ax.set_title(pc.LABELS[metric].split(" (")[0])
            bound = {"slo_violation_pct": "oracle_slo_violation_pct", "total_cost_usd": "oracle_cost_usd"}.get(metric)
            if bound and pc.has_oracle(points):
                level = pc.mean_ci(p.metric(bound) for p in points)[0]
                ax.axhline(level, color="black", linestyle="--", linewidth=1, label="oracle bound")
                ax.legend(loc="upper right", fontsize=7)
            for bar, m, e in zip(bars, means, errs):
                if math.isfinite(m):
                    ax.annotate(f"{m:.3g}", (bar.get_x() + bar.get_width() / 2, m + e),
                                ha="center", va="bottom", fontsize=7, xytext=(0, 2),
                                textcoords="offset points")
        nseeds = max(len(pts) for _, pts in groups)
        fig.suptitle(f"{sweep.experiment}: policies compared{' (' + label + ')' if label else ''} — "
                     f"mean over {nseeds} seed{'s' if nseeds > 1 else ''}, error bars 95 % CI")
        fig.tight_layout()
        figs.save(fig, f"policies{suffix}.png")

        for pol, pts in groups:
            cells = []
            for metric in METRICS + ["p99_ms", "mean_accuracy"]:
                m, h, _ = pc.mean_ci(p.metric(metric) for p in pts)
                cells.append(pc.fmt_ci(m, h, 4 if metric == "total_cost_usd" else 2))
            if pc.has_oracle(sweep.points):
                cells += pc.oracle_cells(pts)
            policy_rows.append([*(pc.fmt_value(v) for v in cond), pol, len(pts), *cells])

        ours = by_policy.get((args.ours,), [])
        if not ours:
            print(f"warning: no {args.ours!r} points{' for ' + label if label else ''}; "
                  "no ratios", file=sys.stderr)
            continue
        plotted = []
        for pol, pts in groups:
            if pol == args.ours:
                continue
            thr, thr_zero = paired_ratios(ours, pts, "throughput_qps", invert=False)
            vio, vio_zero = paired_ratios(ours, pts, "slo_violation_pct", invert=True)
            cost, cost_zero = paired_ratios(ours, pts, "total_cost_usd", invert=True)
            paired = len({p.seed for p in ours} & {p.seed for p in pts})
            t_text, t_mean, t_half = ratio_cell(thr, thr_zero)
            v_text, v_mean, v_half = ratio_cell(vio, vio_zero)
            c_text, c_mean, c_half = ratio_cell(cost, cost_zero)
            ratio_rows.append([*(pc.fmt_value(v) for v in cond), pol, paired,
                               t_text, PAPER["throughput"], v_text, PAPER["violations"],
                               c_text, PAPER["cost"]])
            plotted.append((pol, [(t_mean, t_half), (v_mean, v_half), (c_mean, c_half)]))
            for name, m in zip(("throughput", "violations", "cost"), (t_mean, v_mean, c_mean)):
                if math.isfinite(m):
                    summary_ratios[name].append(m)

        if plotted:
            fig, axes = pc.plt.subplots(1, 3, figsize=(12, 3.8))
            titles = [f"throughput: {args.ours} / baseline", f"SLO violations: baseline / {args.ours}",
                      f"cost: baseline / {args.ours}"]
            for i, (ax, key) in enumerate(zip(axes, ("throughput", "violations", "cost"))):
                names = [pol for pol, _ in plotted]
                means = [r[i][0] for _, r in plotted]
                errs = [r[i][1] if math.isfinite(r[i][1]) else 0 for _, r in plotted]
                ax.bar(range(len(names)), [m if math.isfinite(m) else 0 for m in means], yerr=errs,
                       capsize=4, color=[colors[n] for n in names], edgecolor="black", linewidth=0.5)
                ax.axhline(1.0, color="black", linewidth=0.8)
                ax.axhline(PAPER_VALUES[key], color="red", linestyle="--", linewidth=1,
                           label=f"paper: {PAPER_LINE[key]}")
                ax.set_xticks(range(len(names)))
                ax.set_xticklabels(names, rotation=30, ha="right")
                ax.set_ylabel("ratio (×, > 1 favours " + args.ours + ")")
                ax.set_title(titles[i])
                ax.legend(loc="best")
            fig.suptitle(f"{sweep.experiment}: {args.ours} vs each baseline{' (' + label + ')' if label else ''}"
                         " — per-seed ratios paired by seed, mean ± 95 % CI")
            fig.tight_layout()
            figs.save(fig, f"ratios{suffix}.png")

    cond_header = [pc.short_key(k) for k in cond_keys]
    figs.table("policies", cond_header + ["policy", "seeds", "throughput (q/s)",
                                          "SLO violations (%)", "cost (USD)", "p99 (ms)",
                                          "mean accuracy (%)"]
               + (pc.ORACLE_HEADER if pc.has_oracle(sweep.points) else []),
               policy_rows, title=f"{sweep.experiment}: per policy, mean ± 95 % CI over seeds")
    if ratio_rows:
        def avg(xs):
            return f"{sum(xs) / len(xs):.2f}×" if xs else "n/a"
        cost_max = f"up to {max(summary_ratios['cost']):.2f}×, {avg(summary_ratios['cost'])} avg" \
            if summary_ratios["cost"] else "n/a"
        cond_header = [pc.short_key(k) for k in cond_keys]
        ratio_rows.append([*([""] * len(cond_keys)), "average over baselines" + (" and " + ", ".join(cond_header) if cond_keys else ""), "",
                           avg(summary_ratios["throughput"]), PAPER["throughput"],
                           avg(summary_ratios["violations"]), PAPER["violations"],
                           cost_max, PAPER["cost"]])
    figs.table("ratios", cond_header + ["baseline", "paired seeds",
                                        f"throughput × ({args.ours}/baseline)", "paper",
                                        f"SLO violations × fewer (baseline/{args.ours})", "paper",
                                        f"cost × lower (baseline/{args.ours})", "paper"],
               ratio_rows, title=f"{sweep.experiment}: {args.ours} vs baselines (mean ± 95 % CI "
                                 "of per-seed ratios)", notes=[PAPER_NOTE])
    figs.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
