#!/usr/bin/env python3
"""Compares live replays with simulations of the same experiments (scripts/fidelity).

Usage:
  python3 scripts/fidelity_compare.py OUT_DIR          # OUT_DIR/<condition>/<scenario>/run<seed>/{live,sim}
  python3 scripts/fidelity_compare.py LIVE_DIR SIM_DIR # one pair
  python3 scripts/fidelity_compare.py --yaml-key EXPERIMENT KEY   # a value of an experiment (for the script)

Per scenario and condition, over the runs (mean, and the spread min–max): latency p50 and p99,
SLO-violation rate, throughput over the arrival span, the share of queries given the same
variant live and simulated (queries matched by arrival order: the same seed gives the same
arrivals), and scale events (model-autoscaler replica changes and VM-autoscaler worker
changes: count, and whether each simulated one is within one tick of the live one). Writes
OUT_DIR/comparison.json and OUT_DIR/fidelity.png (live against simulated latency CDFs and
worker/replica timelines), and prints the Markdown table with the goals (p99 within 10 %,
violations within 2 points, variant choices identical ≥ 95 %, scale events within one tick).

A second table says where the time goes, live against simulated: the mean end-to-end latency of
served queries split into the model run (`inference_ms`), the rest of the query's time on its
worker (queue, and load when cold: `worker_ms` less the run) and the path outside the worker
(hops, master, client: the latency less `worker_ms`), and beside them the replay client's lag in
sending behind the trace (`client_lag_ms`; live latencies count from the send). Live, the
outside part is split further along the serving path from the master's and worker's wall
times (`master_ms`, `worker_call_ms`, `worker_wall_ms`). The part whose
live and simulated means differ most is what a fidelity fix should go after.
"""
import json
import os
import sys

TICK_S = {"replicas": 1.0, "workers": 2.0}  # arbiter period, VM-autoscaler period


def yaml_key(path, key):
    import yaml
    with open(path) as f:
        node = yaml.safe_load(f)
    for part in key.split("."):
        node = (node or {}).get(part, {}) if isinstance(node, dict) else {}
    if isinstance(node, dict):
        for k, v in node.items():
            print(f"{k}={str(v).lower() if isinstance(v, bool) else v}")
    else:
        print(node)


def load(folder):
    import h5py
    import numpy as np
    with open(os.path.join(folder, "summary.json")) as f:
        summary = json.load(f)
    with h5py.File(os.path.join(folder, "results.h5"), "r") as h5:
        names = [n.decode() if isinstance(n, bytes) else n for n in h5["variants/name"][:]]
        q = h5["queries"]
        arrival, finish = q["arrival_s"][:], q["finish_s"][:]
        variant, met = q["variant"][:], q["met"][:]
        # Older results have no per-query split: the breakdown is left out for them.
        worker_ms = q["worker_ms"][:] if "worker_ms" in q else None
        inference_ms = q["inference_ms"][:] if "inference_ms" in q else None
        client_lag_ms = q["client_lag_ms"][:] if "client_lag_ms" in q else None
        path = {k: q[k][:] for k in ("master_ms", "worker_call_ms", "worker_wall_ms") if k in q}
        ts = h5["timeseries"]
        series = {"time": ts["time_s"][:], "workers": ts["workers_cpu"][:], "replicas": ts["replicas"][:]}
    order = np.lexsort((finish, arrival))
    chosen = [names[v] if v >= 0 else "" for v in variant[order]]
    served = met >= 0
    latencies = np.sort((finish - arrival)[served] * 1000)
    parts = None
    if worker_ms is not None and inference_ms is not None:
        known = served & (worker_ms >= 0) & (inference_ms >= 0)
        if known.any():
            e2e = (finish - arrival)[known] * 1000
            parts = {"latency": float(e2e.mean()), "run": float(inference_ms[known].mean()),
                     "worker_wait": float((worker_ms[known] - inference_ms[known]).mean()),
                     "outside": float((e2e - worker_ms[known]).mean()), "queries": int(known.sum()),
                     "client_lag": float(client_lag_ms[known].mean()) if client_lag_ms is not None else 0.0}
            # Live: the outside split along the serving path (master and worker wall times).
            if len(path) == 3:
                full = known & (path["master_ms"] > 0) & (path["worker_call_ms"] > 0) & (path["worker_wall_ms"] > 0)
                if full.any():
                    e = (finish - arrival)[full] * 1000
                    parts["path"] = {
                        "client_master": float((e - path["master_ms"][full]).mean()),
                        "master": float((path["master_ms"][full] - path["worker_call_ms"][full]).mean()),
                        "master_worker": float((path["worker_call_ms"][full] - path["worker_wall_ms"][full]).mean()),
                        "worker_handling": float((path["worker_wall_ms"][full] - worker_ms[full]).mean()),
                    }
    return {"summary": summary, "chosen": chosen, "latencies": latencies, "series": series, "parts": parts}


def events(series, key):
    """(time, new value) each time the count changes from one row to the next, after it first
    becomes non-zero: the first replica's cold load is not a scale event (live, the first sample
    may come before it, the simulator's after it)."""
    values, times = series[key], series["time"]
    start = next((i for i, v in enumerate(values) if v > 0), len(values))
    return [(float(times[i]), int(values[i])) for i in range(start + 1, len(values)) if values[i] != values[i - 1]]


def compare_run(live, sim):
    import numpy as np
    ls, ss = live["summary"], sim["summary"]
    n = min(len(live["chosen"]), len(sim["chosen"]))
    same = sum(1 for a, b in zip(live["chosen"][:n], sim["chosen"][:n]) if a == b)
    row = {
        "queries": (ls["queries"], ss["queries"]),
        "p50": (ls["latency_ms"]["p50"], ss["latency_ms"]["p50"]),
        "p99": (ls["latency_ms"]["p99"], ss["latency_ms"]["p99"]),
        "violations": (ls["slo_violation_percent"], ss["slo_violation_percent"]),
        "throughput": (ls["throughput_qps"], ss["throughput_qps"]),
        "same_variant_pct": 100.0 * same / n if n else float("nan"),
        "parts": (live["parts"], sim["parts"]) if live["parts"] and sim["parts"] else None,
    }
    # Scale events inside the window both runs cover (a run ends when its last query is answered).
    end = min(live["series"]["time"][-1], sim["series"]["time"][-1]) if len(live["series"]["time"]) and len(sim["series"]["time"]) else 0
    for key in ("replicas", "workers"):
        le = [e for e in events(live["series"], key) if e[0] <= end]
        se = [e for e in events(sim["series"], key) if e[0] <= end]
        paired = list(zip(le, se))
        within = sum(1 for a, b in paired if a[1] == b[1] and abs(a[0] - b[0]) <= TICK_S[key] + 1e-9)
        row[key] = {"live": le, "sim": se, "within_tick": within, "count_equal": len(le) == len(se)}
    return row


def stats(values):
    values = [v for v in values if v == v]
    if not values:
        return float("nan"), float("nan"), float("nan")
    return sum(values) / len(values), min(values), max(values)


def fmt(values, digits=1):
    mean, lo, hi = stats(values)
    if mean != mean:
        return "—"
    return f"{mean:.{digits}f}" if len(values) == 1 or lo == hi else f"{mean:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def table(cells):
    """cells: {(condition, scenario): [run rows]} → Markdown lines and a JSON-able summary."""
    lines = ["| condition | scenario | runs | p50 live / sim (ms) | p99 live / sim (ms) | p99 gap | violations live / sim (%) | gap (points) "
             "| same variant | replica changes live / sim (in a tick) | worker changes live / sim (in a tick) | goals met |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    report = []
    for (condition, scenario), rows in sorted(cells.items(), key=lambda kv: (kv[0][0] != "quiet", kv[0][1])):
        p99_gap = [abs(r["p99"][1] - r["p99"][0]) / r["p99"][0] * 100 if r["p99"][0] else float("nan") for r in rows]
        viol_gap = [abs(r["violations"][1] - r["violations"][0]) for r in rows]
        same = [r["same_variant_pct"] for r in rows]
        scale = {}
        for key in ("replicas", "workers"):
            live_n = [len(r[key]["live"]) for r in rows]
            sim_n = [len(r[key]["sim"]) for r in rows]
            within = sum(r[key]["within_tick"] for r in rows)
            total = sum(max(len(r[key]["live"]), len(r[key]["sim"])) for r in rows)
            scale[key] = (live_n, sim_n, within, total)
        goals = {
            "p99_within_10pct": stats(p99_gap)[0] <= 10,
            "violations_within_2pts": stats(viol_gap)[0] <= 2,
            "variants_95pct": stats(same)[0] >= 95,
            "scale_events_within_tick": all(s[2] == s[3] for s in scale.values()),
        }
        def events_cell(key):
            live_n, sim_n, within, total = scale[key]
            return f"{fmt(live_n)} / {fmt(sim_n)} ({within}/{total})"
        lines.append(f"| {condition} | {scenario} | {len(rows)} | {fmt([r['p50'][0] for r in rows])} / {fmt([r['p50'][1] for r in rows])} "
                     f"| {fmt([r['p99'][0] for r in rows])} / {fmt([r['p99'][1] for r in rows])} | {fmt(p99_gap)} % "
                     f"| {fmt([r['violations'][0] for r in rows], 2)} / {fmt([r['violations'][1] for r in rows], 2)} | {fmt(viol_gap, 2)} "
                     f"| {fmt(same)} % | {events_cell('replicas')} | {events_cell('workers')} | {sum(goals.values())}/4 |")
        report.append({"condition": condition, "scenario": scenario, "runs": rows, "goals": goals,
                       "p99_gap_pct": stats(p99_gap)[0], "violation_gap_points": stats(viol_gap)[0], "same_variant_pct": stats(same)[0]})
    return lines, report


PARTS = (("latency", "mean latency"), ("run", "model run"), ("worker_wait", "queue + load on the worker"),
         ("outside", "outside the worker (hops, master, client)"), ("client_lag", "client's send lag (not in the latency)"))


PATH_PARTS = (("client_master", "client ↔ master (client, wire)"), ("master", "in the master (routing, copies)"),
              ("master_worker", "master ↔ worker (wire, gRPC)"), ("worker_handling", "worker's handling (beside queue, load, run)"))


def breakdown(cells):
    """Where the mean latency goes, live / simulated, per cell (runs whose results have the split)."""
    lines = ["| condition | scenario | runs | " + " | ".join(f"{label} live / sim (ms)" for _, label in PARTS) + " | largest gap |",
             "|---|---|---|" + "---|" * (len(PARTS) + 1)]
    report = {}
    for (condition, scenario), rows in sorted(cells.items(), key=lambda kv: (kv[0][0] != "quiet", kv[0][1])):
        rows = [r for r in rows if r.get("parts")]
        if not rows:
            continue
        cell = []
        gaps = {}
        for key, label in PARTS:
            live = [r["parts"][0].get(key, 0.0) for r in rows]
            sim = [r["parts"][1].get(key, 0.0) for r in rows]
            cell.append(f"{fmt(live)} / {fmt(sim)}")
            if key not in ("latency", "client_lag"):
                gaps[label] = stats(live)[0] - stats(sim)[0]
        largest = max(gaps, key=lambda k: abs(gaps[k]))
        lines.append(f"| {condition} | {scenario} | {len(rows)} | " + " | ".join(cell) + f" | {largest} ({gaps[largest]:+.1f} ms) |")
        report[f"{condition}/{scenario}"] = {"live_minus_sim_ms": gaps, "largest": largest}
    # Live only: the outside split along the serving path.
    path_rows = []
    for (condition, scenario), rows in sorted(cells.items(), key=lambda kv: (kv[0][0] != "quiet", kv[0][1])):
        paths = [r["parts"][0]["path"] for r in rows if r.get("parts") and "path" in r["parts"][0]]
        if paths:
            path_rows.append(f"| {condition} | {scenario} | {len(paths)} | " + " | ".join(fmt([p[k] for p in paths]) for k, _ in PATH_PARTS) + " |")
            report[f"{condition}/{scenario}"]["live_outside_ms"] = {k: stats([p[k] for p in paths])[0] for k, _ in PATH_PARTS}
    if path_rows:
        lines += ["", "Outside the worker, live, along the serving path (ms; the master's and worker's wall times):", "",
                  "| condition | scenario | runs | " + " | ".join(label for _, label in PATH_PARTS) + " |",
                  "|---|---|---|" + "---|" * len(PATH_PARTS)] + path_rows
    return lines, report


def figure(pairs, path):
    import matplotlib
    import matplotlib.ticker
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    keys = sorted(pairs, key=lambda k: (k[0] != "quiet", k[1]))
    fig, axes = plt.subplots(len(keys), 2, figsize=(11, 2.6 * len(keys)), squeeze=False)
    for i, key in enumerate(keys):
        runs = pairs[key]
        ax = axes[i][0]
        for label, index, color in (("live", 0, "tab:blue"), ("simulated", 1, "tab:orange")):
            lat = np.sort(np.concatenate([r[index]["latencies"] for r in runs]))
            if len(lat):
                ax.plot(lat, np.arange(1, len(lat) + 1) / len(lat), label=label, color=color)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("CDF")
        ax.set_title(f"{key[0]} / {key[1]}: latency, {len(runs)} runs pooled", fontsize=9)
        ax.legend(fontsize=8)
        ax = axes[i][1]
        live, sim = runs[0]
        for label, run, style in (("live", live, "-"), ("simulated", sim, "--")):
            s = run["series"]
            ax.step(s["time"], s["workers"], style, where="post", color="tab:green", label=f"workers, {label}")
            ax.step(s["time"], s["replicas"], style, where="post", color="tab:purple", label=f"replicas, {label}")
        ax.set_xlabel("time (s)")
        ax.set_title(f"{key[0]} / {key[1]}: workers and replicas, seed 1", fontsize=9)
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--yaml-key":
        return yaml_key(args[1], args[2])
    if len(args) == 2:
        row = compare_run(load(args[0]), load(args[1]))
        lines, _ = table({("—", "—"): [row]})
        print("\n".join(lines))
        parts_lines, parts_report = breakdown({("—", "—"): [row]})
        if parts_report:
            print()
            print("\n".join(parts_lines))
        return
    if len(args) != 1:
        sys.exit(__doc__)
    root = args[0]
    cells, pairs, loads = {}, {}, {}
    for condition in sorted(os.listdir(root)):
        cdir = os.path.join(root, condition)
        if not os.path.isdir(cdir) or condition in ("home", "configs"):
            continue
        for scenario in sorted(os.listdir(cdir)):
            sdir = os.path.join(cdir, scenario)
            if not os.path.isdir(sdir):
                continue
            for run in sorted(os.listdir(sdir)):
                rdir = os.path.join(sdir, run)
                if not os.path.exists(os.path.join(rdir, "sim", "summary.json")) or not os.path.exists(os.path.join(rdir, "live", "summary.json")):
                    continue
                live, sim = load(os.path.join(rdir, "live")), load(os.path.join(rdir, "sim"))
                cells.setdefault((condition, scenario), []).append(compare_run(live, sim))
                pairs.setdefault((condition, scenario), []).append((live, sim))
                try:
                    with open(os.path.join(rdir, "load_average")) as f:
                        loads.setdefault((condition, scenario), []).append(float(f.read()))
                except OSError:
                    pass
    if not cells:
        sys.exit(f"fidelity_compare: no runs under {root} (run scripts/fidelity)")
    lines, report = table(cells)
    print("\n".join(lines))
    print()
    parts_lines, parts_report = breakdown(cells)
    if parts_report:
        print("Where the mean latency of served queries goes (per-query worker_ms and inference_ms):")
        print()
        print("\n".join(parts_lines))
        print()
    for (condition, scenario), values in loads.items():
        print(f"load average at the start of each {condition}/{scenario} run: {', '.join(f'{v:.2f}' for v in values)}")
    with open(os.path.join(root, "comparison.json"), "w") as f:
        json.dump({"cells": report, "breakdown": parts_report, "load_averages": {f"{c}/{s}": v for (c, s), v in loads.items()}}, f, indent=1, default=str)
    figure(pairs, os.path.join(root, "fidelity.png"))


if __name__ == "__main__":
    main()
