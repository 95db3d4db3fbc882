#!/usr/bin/env python3
"""Where a served query's time goes: the master → worker path at concurrency 1, measured per query.

    INFAAS=path/to/release/infaas .venv-bench/bin/python scripts/profile_served_path.py [--seconds 10] [--model tiny]

Starts `infaas up --local` (one worker) with the bench's model (scripts/bench_serving.py's
MODELS), then, one call at a time with tritonclient's blocking gRPC client:
  * v2 ModelInfer by variant through the master (the served path: client → master → worker);
  * v2 ServerLive on the master (one grpc-swift round trip, no routing, no worker);
  * bare ONNX Runtime in this process (the inference alone).
During the ModelInfer phase `perf stat` counts each daemon's CPU time, context switches and
threads, so the report gives, per query: CPU milliseconds in the master and in the worker,
context switches (each a thread hand-off or wake-up), and the worker's own inference time (the
reply's `inference_ms`). With `--perf-record` it also samples both daemons (perf record) and
prints the top shared objects and symbols (the samples stay in out/profile-served-path/ for
`perf report -i`). Needs `perf` (linux-perf); without it the CPU columns are left out.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import tritonclient.grpc as tgrpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_serving as bench  # noqa: E402


def p50(values):
    return float(np.percentile(np.array(values) * 1000, 50))


def perf_stat(pids, seconds):
    """Starts `perf stat` on each pid for `seconds`; returns the processes and their output files."""
    runs = []
    for pid in pids:
        out = tempfile.NamedTemporaryFile(suffix=".perf", delete=False).name
        p = subprocess.Popen(["perf", "stat", "-x", ",", "-e", "task-clock,context-switches,cpu-migrations", "-p", str(pid), "-o", out,
                              "--", "sleep", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        runs.append((p, out))
    return runs


def read_stat(path):
    counts = {}
    for line in open(path):
        parts = line.strip().split(",")
        if len(parts) >= 3 and parts[0] and parts[0][0].isdigit():
            counts[parts[2]] = float(parts[0])
    return counts


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--model", default="tiny", choices=sorted(bench.MODELS))
    parser.add_argument("--perf-record", action="store_true")
    args = parser.parse_args()
    have_perf = shutil.which("perf") is not None
    folder, shape, _, _, _ = bench.MODELS[args.model]
    variant = bench.variant_name(folder)
    input_name = bench.variant_key(folder, "input_name")
    print(f"profile_served_path: {args.model} ({variant}), batch 1, concurrency 1, {args.seconds:g} s per phase; "
          f"load average {os.getloadavg()[0]:.2f}; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}", flush=True)
    home = tempfile.mkdtemp(prefix="infaas-profile-path-")
    try:
        address, headers = bench.infaas_cluster(home, [args.model])
        state = json.load(open(os.path.join(home, "cluster/cluster.json")))
        master = state["pid"]
        workers = [int(p) for p in subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout.split()]
        client = tgrpc.InferenceServerClient(url=address)
        x = np.random.default_rng(1).random(shape, dtype=np.float32)

        def infer():
            tensor = tgrpc.InferInput(input_name, shape, "FP32")
            tensor.set_data_from_numpy(x)
            return client.infer(variant, [tensor], headers=headers)

        for _ in range(50):
            infer()
        # The daemons' own background work (reports, monitors, autoscalers) with no queries: subtracted below.
        idle = perf_stat([master] + workers, args.seconds) if have_perf else []
        for p, _ in idle:
            p.wait()
        stats = perf_stat([master] + workers, args.seconds) if have_perf else []
        records = []
        if args.perf_record and have_perf:
            for pid in [master] + workers:
                os.makedirs(os.path.join(bench.ROOT, "out/profile-served-path"), exist_ok=True)
                data = os.path.join(bench.ROOT, "out/profile-served-path", f"{'master' if pid == master else 'worker'}-{args.model}.data")
                records.append((pid, data, subprocess.Popen(["perf", "record", "-F", "2000", "-g", "-p", str(pid), "-o", data, "--", "sleep", str(args.seconds)],
                                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        latencies, inference, worker_ms = [], [], []
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            t = time.perf_counter()
            result = infer()
            latencies.append(time.perf_counter() - t)
            params = result.get_response().parameters
            inference.append(params["inference_ms"].double_param / 1000)
            worker_ms.append(params["worker_ms"].double_param / 1000)
        n = len(latencies)
        thread_counts = {pid: threads(pid) for pid in [master] + workers}
        for p, _ in stats:
            p.wait()
        for _, _, p in records:
            p.wait()
        live = bench.server_live_round_trip(address, headers, min(args.seconds, 5))
        bare = bench.bare_onnxruntime(folder, shape, min(args.seconds, 5))

        print(f"\nserved (v2 ModelInfer, client → master → worker): p50 {p50(latencies):.3f} ms over {n} queries")
        print(f"  the worker's inference (reply inference_ms):    p50 {p50(inference):.3f} ms")
        print(f"  the worker's time (reply worker_ms):            p50 {p50(worker_ms):.3f} ms")
        print(f"v2 ServerLive on the master (one round trip):     p50 {p50(live):.3f} ms")
        print(f"bare ONNX Runtime in this process:                p50 {p50(bare):.3f} ms")
        if stats:
            print(f"\nper served query, from perf stat: the served phase minus an idle phase of the same length ({n} queries):")
            print("| process | CPU ms/query | context switches/query | idle CPU ms/s | threads |")
            print("|---|---|---|---|---|")
            for (pid, (_, out), (_, idle_out)) in zip([master] + workers, stats, idle):
                c, i = read_stat(out), read_stat(idle_out)
                role = "master" if pid == master else "worker"
                cpu = (c.get("task-clock", 0) - i.get("task-clock", 0)) / n
                switches = (c.get("context-switches", 0) - i.get("context-switches", 0)) / n
                print(f"| {role} | {cpu:.3f} | {switches:.1f} | {i.get('task-clock', 0) / args.seconds:.2f} | {thread_counts[pid]} |")
        for pid, data, _ in records:
            role = "master" if pid == master else "worker"
            for sort in ("dso", "sym"):
                report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", sort, "--stdio", "--percent-limit", "2"],
                                        capture_output=True, text=True).stdout
                rows = [line for line in report.splitlines() if line.strip() and not line.startswith("#") and "%" in line.split()[0]]
                print(f"\n{role}: top {sort} (perf record, {args.seconds:g} s)")
                for line in rows[:15]:
                    print("  " + line.strip()[:150])
    finally:
        subprocess.run([bench.INFAAS, "down", "--home", home], capture_output=True, timeout=60)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
