#!/usr/bin/env python3
"""How each policy's cluster follows the load over time (the autoscaling-timeline experiment).

Usage:  scripts/plot_autoscaling_timeline.py OUT_DIR [--figures DIR] [--seed N]

For each policy (and each combination of other swept keys) it takes one seed's run (the first
seed, or --seed) and writes into DIR (default figures/<OUT_DIR name>/):

  timeline-<policy>[-<cond>].png  five panels on a shared time axis: arrivals and completions
                                  per interval; workers per hardware class (stacked); model
                                  replicas and running variants; mean latency; SLO violations and
                                  rejections per interval
  timeline-compare.png            all policies overlaid: arrivals, total workers, replicas, mean
                                  latency, violations per interval and cumulative cost
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402

EXPERIMENT = "autoscaling-timeline"
HARDWARE = ("cpu", "gpu", "inf")


def time_axis(series_list):
    """(scale, label): minutes when any run is longer than 20 minutes, else seconds."""
    longest = max((float(ts["time_s"][-1]) for ts in series_list if len(ts["time_s"])), default=0)
    return (60.0, "simulated time (min)") if longest > 1200 else (1.0, "simulated time (s)")


def interval_s(ts) -> float:
    t = pc.np.asarray(ts["time_s"], dtype=float)
    if len(t) < 2:
        return float(t[0]) if len(t) else 0.0
    return float(pc.np.median(pc.np.diff(t)))


def steps(t, y):
    """Each row covers the interval that ends at its time: start the first one at 0 so that
    `drawstyle="steps-pre"` draws every interval, the first included, as a flat step."""
    t = pc.np.asarray(t, dtype=float)
    y = pc.np.asarray(y)
    if not len(t):
        return t, y
    return pc.np.concatenate([[0.0], t]), pc.np.concatenate([y[:1], y])


def label_of(cond_keys, cond) -> str:
    return ", ".join(f"{pc.short_key(k)}={pc.fmt_value(v)}" for k, v in zip(cond_keys, cond))


def plot_one(figs, title, ts, scale, xlabel, name):
    step = interval_s(ts)
    t, _ = steps(ts["time_s"] / scale, ts["time_s"])
    ts = {k: steps(ts["time_s"], v)[1] for k, v in ts.items()}
    fig, axes = pc.plt.subplots(5, 1, figsize=(10, 11), sharex=True)
    ax = axes[0]
    ax.plot(t, ts["arrivals"], drawstyle="steps-pre", label="arrivals")
    ax.plot(t, ts["completions"], drawstyle="steps-pre", label="completions", alpha=0.8)
    ax.set_ylabel(f"queries per {step:g} s")
    ax.set_title("load")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))

    ax = axes[1]
    stacks = [ts.get(f"workers_{hw}", pc.np.zeros_like(t)) for hw in HARDWARE]
    ax.stackplot(t, *stacks, labels=[hw.upper() for hw in HARDWARE], step="pre",
                 colors=[pc.HARDWARE_COLORS[hw] for hw in HARDWARE], alpha=0.85)
    ax.set_ylabel("workers (VMs)")
    ax.set_title("workers per hardware class (stacked)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))

    ax = axes[2]
    ax.plot(t, ts["replicas"], drawstyle="steps-pre", label="model replicas")
    ax.plot(t, ts["running_variants"], drawstyle="steps-pre", label="distinct running variants")
    ax.set_ylabel("count")
    ax.set_title("model-level scaling")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))

    ax = axes[3]
    ax.plot(t, ts["mean_latency_ms"], drawstyle="steps-pre", color="tab:purple")
    ax.set_ylabel("mean latency (ms)")
    ax.set_title("mean latency of queries completed in each interval")

    ax = axes[4]
    ax.plot(t, ts["arrivals"], drawstyle="steps-pre", color="tab:blue", alpha=0.35, label="arrivals")
    ax.plot(t, ts["violations"], drawstyle="steps-pre", color="tab:red", label="missed SLO")
    ax.plot(t, ts["rejected"], drawstyle="steps-pre", color="tab:gray", label="of which rejected")
    ax.set_ylabel(f"queries per {step:g} s")
    ax.set_title("queries arrived in each interval that missed their SLO")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_xlabel(xlabel)
    for ax in axes:
        ax.set_ylim(bottom=0)
    fig.suptitle(title)
    fig.tight_layout()
    figs.save(fig, name)


def plot_compare(figs, title, runs, colors, scale, xlabel):
    fig, axes = pc.plt.subplots(6, 1, figsize=(10, 13), sharex=True)
    step = interval_s(runs[0][1])
    panels = [
        ("arrivals", f"arrivals per {step:g} s", "load"),
        ("workers", "workers (VMs, all classes)", "total workers"),
        ("replicas", "model replicas", "model replicas"),
        ("mean_latency_ms", "mean latency (ms)", "mean latency per interval"),
        ("violations", f"missed SLO per {step:g} s", "SLO violations among each interval's arrivals"),
        ("cost_usd", "cumulative cost (USD)", "cost so far"),
    ]
    markers = pc.policy_markers([label for label, _ in runs])
    for ax, (key, ylabel, panel_title) in zip(axes, panels):
        for label, ts in runs:
            every = max(1, len(ts["time_s"]) // 12)  # a dozen markers per line
            if key == "workers":
                y = sum(ts.get(f"workers_{hw}", 0) for hw in HARDWARE)
            else:
                y = ts[key]
            t, y = steps(ts["time_s"] / scale, y)
            if key == "cost_usd":  # cumulative: a line from $0 at t = 0
                ax.plot(t, pc.np.concatenate([[0.0], y[1:]]), label=label, color=colors.get(label),
                        marker=markers.get(label), markevery=every, markersize=4)
                continue
            ax.plot(t, y, drawstyle="steps-pre", label=label, color=colors.get(label),
                    marker=markers.get(label), markevery=every, markersize=4)
            if key == "arrivals":
                break  # the same load for every policy
        ax.set_ylabel(ylabel)
        ax.set_title(panel_title)
        ax.set_ylim(bottom=0)
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="policy")
    axes[-1].set_xlabel(xlabel)
    fig.suptitle(title)
    fig.tight_layout()
    figs.save(fig, "timeline-compare.png")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    pc.common_args(parser, EXPERIMENT)
    parser.add_argument("--seed", type=int, help="which seed's run to draw (default: the first)")
    args = parser.parse_args(argv)
    sweep = pc.load_or_exit(args.out_dir, pc.sweep_command(EXPERIMENT, args.out_dir))
    pc.style()
    figs = pc.Figures(args.figures or pc.default_figures_dir(sweep, EXPERIMENT))

    seeds = sweep.seeds()
    seed = args.seed if args.seed is not None else seeds[0]
    if seed not in seeds:
        sys.exit(f"error: no seed {seed} in {args.out_dir} (seeds: {', '.join(map(str, seeds))})")
    chosen = [p for p in sweep.points if p.seed == seed]
    keys = ["policy"] + sweep.varying_keys(exclude=("policy",))
    groups = pc.group_points(chosen, keys)
    colors = pc.policy_colors(sweep.values("policy"))

    loaded = []
    for values, points in groups.items():
        p = points[0]
        if not os.path.isfile(p.h5_path):
            sys.exit(f"error: {p.h5_path} not found (rerun {pc.sweep_command(EXPERIMENT, args.out_dir)})")
        loaded.append((values, p, p.timeseries()))
    scale, xlabel = time_axis([ts for _, _, ts in loaded])

    for values, p, ts in loaded:
        policy, cond = values[0], values[1:]
        label = label_of(keys[1:], cond)
        suffix = "".join("-" + pc.fmt_value(v) for v in cond).replace("/", "_")
        plot_one(figs, f"{sweep.experiment}: {policy}{' (' + label + ')' if label else ''}, seed {seed}",
                 ts, scale, xlabel, f"timeline-{policy}{suffix}.png")

    runs = []
    for values, p, ts in loaded:
        name = values[0] if len(values) == 1 else f"{values[0]} ({label_of(keys[1:], values[1:])})"
        runs.append((name, ts))
    plot_compare(figs, f"{sweep.experiment}: policies over time, seed {seed}", runs, colors, scale, xlabel)
    figs.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
