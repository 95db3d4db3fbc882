#!/usr/bin/env python3
"""Time model variants with bare ONNX Runtime, configured as their variant.yaml says.

    python3 models/measure.py [DIR_OR_VARIANT ...] [--batches 1,8] [--runs 30] [--warmup 5]

Each argument is a model repository folder (every subfolder with a variant.yaml is measured) or
one variant folder; the default is models/build. Each variant gets its own session with
intra_op_num_threads = cpus, inter_op_num_threads = 1 and the variant's graph_optimization level,
on the CPU execution provider. The input is seeded N(0,1) noise of the variant's input shape.
Prints a Markdown table: session load time (median of 3 creations) and p50/p90 latency per batch
over --runs timed runs after --warmup untimed ones, and the share of the CPUs that OTHER processes
used meanwhile (from /proc/stat): rows with a high share are not to be trusted. Batches above a variant's max_batch are still
timed (the graph accepts any batch) and marked with '*': the server would not send them.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


class ForeignLoad:
    """CPU time used by other processes while we measure: /proc/stat busy time minus our own."""

    def __init__(self):
        self.tick = os.sysconf("SC_CLK_TCK")
        self.cpus = os.cpu_count() or 1
        self.start()

    def _sample(self):
        try:
            with open("/proc/stat", encoding="ascii") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
        except OSError:
            return None
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / self.tick  # all but idle and iowait
        own = os.times()
        return busy, own.user + own.system, time.monotonic()

    def start(self):
        self.begin = self._sample()

    def percent(self):
        """Average share of all CPUs that other processes used since start(), in percent."""
        end = self._sample()
        if self.begin is None or end is None or end[2] <= self.begin[2]:
            return float("nan")
        foreign = (end[0] - self.begin[0]) - (end[1] - self.begin[1])
        return max(0.0, 100.0 * foreign / ((end[2] - self.begin[2]) * self.cpus))

    def wait_quiet(self, limit_s, threshold=10.0):
        """Wait (up to limit_s) for a 2-second window in which others use < threshold % of the CPUs."""
        deadline = time.monotonic() + limit_s
        while True:
            self.start()
            time.sleep(2)
            busy = self.percent()
            if busy < threshold or time.monotonic() >= deadline:
                return busy


def human(size):
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.1f} kB"


def variant_dirs(paths):
    out = []
    for p in paths:
        if (p / "variant.yaml").is_file():
            out.append(p)
        else:
            out += sorted(d for d in p.iterdir() if (d / "variant.yaml").is_file())
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="example: python3 models/measure.py models/build models/tiny --batches 1,8")
    p.add_argument("paths", nargs="*", type=Path, default=[HERE / "build"])
    p.add_argument("--batches", default="1,8", help="comma-separated batch sizes (default 1,8)")
    p.add_argument("--runs", type=int, default=30, help="timed runs per batch (default 30)")
    p.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    p.add_argument("--wait-quiet", type=float, default=0, metavar="S",
                   help="before each variant, wait up to S seconds for other processes to leave the CPUs idle")
    p.add_argument("--max-others", type=float, default=100, metavar="PCT",
                   help="re-measure a variant (up to --retries times) while other processes used more than "
                        "PCT %% of the CPUs during it (default 100: never)")
    p.add_argument("--retries", type=int, default=3, help="re-measurements allowed by --max-others (default 3)")
    args = p.parse_args(argv)
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as e:
        sys.exit(f"error: {e.name} is missing. Install it with:  pip install onnx onnxruntime")
    sys.path.insert(0, str(HERE))
    import variant_yaml

    levels = {"disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
              "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
              "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
              "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}
    batches = [int(b) for b in args.batches.split(",")]
    dirs = variant_dirs(args.paths)
    if not dirs:
        sys.exit(f"error: no variant.yaml under {', '.join(map(str, args.paths))}; "
                 "build some with: python3 models/build_models.py")

    header = (["variant", "cpus", "opt", "size", "load ms"]
              + [f"b{b} {q} ms" for b in batches for q in ("p50", "p90")] + ["others' CPU %"])
    print(f"onnxruntime {ort.__version__}, CPU EP, {args.runs} runs after {args.warmup} warm-ups")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    load = ForeignLoad()
    for d in dirs:
        v = variant_yaml.read(d / "variant.yaml")
        for attempt in range(1 + args.retries):
            if args.wait_quiet > 0:
                load.wait_quiet(args.wait_quiet)
            load.start()
            cells = measure(d, v, levels[v["graph_optimization"]], batches, args.runs, args.warmup, np, ort)
            others = load.percent()
            if others <= args.max_others:
                break
        print("| " + " | ".join(cells + [f"{others:.0f}"]) + " |", flush=True)


def measure(d, v, level, batches, runs, warmup, np, ort):
    """One table row: name, cpus, level, size, load ms, then p50 and p90 per batch."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = int(v["cpus"])
    so.inter_op_num_threads = 1
    so.graph_optimization_level = level
    loads = []
    for _ in range(3):
        start = time.perf_counter()
        session = ort.InferenceSession(str(d / "model.onnx"), so, providers=["CPUExecutionProvider"])
        loads.append((time.perf_counter() - start) * 1e3)
    cells = [v["name"], str(v["cpus"]), v["graph_optimization"], human(v["model_bytes"]),
             f"{statistics.median(loads):.0f}"]
    rng = np.random.default_rng(0)
    for b in batches:
        shape = [b if s == -1 else s for s in v["input_shape"]]
        x = {v["input_name"]: rng.standard_normal(shape, dtype=np.float32)}
        for _ in range(warmup):
            session.run(None, x)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            session.run(None, x)
            times.append((time.perf_counter() - start) * 1e3)
        times.sort()
        p50, p90 = statistics.median(times), times[min(len(times) - 1, int(0.9 * len(times)))]
        mark = "*" if b > int(v["max_batch"]) else ""
        cells += [f"{p50:.2f}{mark}", f"{p90:.2f}{mark}"]
    return cells

if __name__ == "__main__":
    main()
