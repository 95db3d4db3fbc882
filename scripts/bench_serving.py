#!/usr/bin/env python3
"""Side-by-side serving benchmark (scripts/bench-serving runs it through .venv-bench).

In one run, on this machine:
  * bare ONNX Runtime (the model alone, in this process, the variant's session settings);
  * an empty gRPC round trip (a grpcio server answering empty bytes on loopback), and the
    infaas-swift master's v2 ServerLive (an empty call through our own gRPC server);
  * infaas-swift (`infaas up --local`, the model registered, queried by variant over v2 gRPC);
  * the peer: KServe's Python ModelServer with onnxruntime (scripts/bench_peer_kserve.py).
Both servers are driven by the same load generator: tritonclient's asyncio gRPC client,
closed loop, `--concurrency` requests outstanding, each level bounded by `--duration` seconds
(after a warm-up). Prints p50/p99 latency and throughput per level, side by side, and writes
out/bench-serving/results.json.

Usage: .venv-bench/bin/python scripts/bench_serving.py [--duration 10] [--concurrency 1,8,64]
         [--models ppocr_cls,tiny] [--no-peer]
"""
import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from concurrent import futures

import grpc
import numpy as np
import onnxruntime as ort
import tritonclient.grpc as tgrpc
import tritonclient.grpc.aio as tgrpc_aio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INFAAS = os.environ.get("INFAAS", os.path.join(ROOT, ".build/release/infaas"))
MODELS = {
    # name: (variant folder, input shape at batch 1, architecture, task, dataset)
    "ppocr_cls": (os.path.join(ROOT, "models/ppocr_cls"), [1, 3, 48, 192], "ppocr_cls", "classification", "ppocr"),  # profile takes the reference's two tasks
    "tiny": (os.path.join(ROOT, "models/tiny/tinycnn_onnxruntime-cpu_t1_b8"), [1, 3, 32, 32], "tinycnn", "classification", "cifar10"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(latencies_s):
    ms = np.array(latencies_s) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def variant_key(folder, key):
    for line in open(os.path.join(folder, "variant.yaml")):
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip().strip('"')
    raise RuntimeError(f"{folder}/variant.yaml has no {key}")


def variant_name(folder):
    return variant_key(folder, "name")


# --- floors -------------------------------------------------------------------------------------

def bare_onnxruntime(folder, shape, seconds):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(os.path.join(folder, "model.onnx"), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    for _ in range(20):
        session.run(None, {name: x})
    latencies, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        session.run(None, {name: x})
        latencies.append(time.perf_counter() - t)
    return latencies


def empty_grpc_round_trip(seconds):
    """A grpcio server whose one method answers empty bytes; a blocking grpcio client calls it."""
    handler = grpc.method_handlers_generic_handler("bench.Empty", {
        "Call": grpc.unary_unary_rpc_method_handler(lambda request, context: b"", request_deserializer=None, response_serializer=None)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        call = channel.unary_unary("/bench.Empty/Call")
        for _ in range(200):
            call(b"")
        latencies, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            t = time.perf_counter()
            call(b"")
            latencies.append(time.perf_counter() - t)
        channel.close()
        return latencies
    finally:
        server.stop(0)


def server_live_round_trip(address, headers, seconds):
    client = tgrpc.InferenceServerClient(url=address)
    for _ in range(200):
        client.is_server_live(headers=headers)
    latencies, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        client.is_server_live(headers=headers)
        latencies.append(time.perf_counter() - t)
    client.close()
    return latencies


# --- the load generator ---------------------------------------------------------------------------

async def closed_loop(address, model, input_name, shape, concurrency, seconds, headers):
    """`concurrency` tasks, each sending the next request when its last one answered."""
    client = tgrpc_aio.InferenceServerClient(url=address)
    x = np.random.default_rng(1).random(shape, dtype=np.float32)

    def request():
        tensor = tgrpc_aio.InferInput(input_name, shape, "FP32")
        tensor.set_data_from_numpy(x)
        return [tensor]

    async def one():
        inputs = request()
        t = time.perf_counter()
        await client.infer(model, inputs, headers=headers)
        return time.perf_counter() - t

    # Warm-up: a cold variant loads on its first query; every task's first call.
    for _ in range(5):
        await one()
    await asyncio.gather(*(one() for _ in range(concurrency)))
    latencies, errors = [], 0
    end = time.monotonic() + seconds

    async def worker():
        nonlocal errors
        while time.monotonic() < end:
            try:
                latencies.append(await one())
            except Exception:  # counted, not hidden
                errors += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    await client.close()
    return latencies, errors, elapsed


def drive(address, model, input_name, shape, levels, seconds, headers):
    rows = {}
    for c in levels:
        latencies, errors, elapsed = asyncio.run(closed_loop(address, model, input_name, shape, c, seconds, headers))
        p50, p99 = percentiles(latencies) if latencies else (float("nan"), float("nan"))
        rows[c] = {"p50_ms": p50, "p99_ms": p99, "throughput_qps": len(latencies) / elapsed, "requests": len(latencies), "errors": errors}
        print(f"    c={c:<3} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  {len(latencies) / elapsed:8.1f} q/s  ({len(latencies)} ok, {errors} errors)", flush=True)
    return rows


# --- the two servers -------------------------------------------------------------------------------

def run(args, home, timeout=600):
    extra = [] if args[0] == "profile" else ["--home", home]  # profile keeps no cluster state
    out = subprocess.run([INFAAS] + args + extra, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"infaas {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def infaas_cluster(home, models):
    configs = os.path.join(home, "configs")
    for key in models:
        folder, _, arch, task, dataset = MODELS[key]
        variant = variant_name(folder)
        run(["profile", os.path.join(folder, "model.onnx"), "--variant", variant, "--architecture", arch, "--task", task, "--dataset", dataset,
             "--accuracy", "50", "--batches", "1,8", "--runs", "20", "--input-shape", ",".join(map(str, MODELS[key][1][1:])),
             "--output", os.path.join(home, "p.h5"), "--config-dir", configs], home)
    # Cores the worker accounts for: each model may get two CPU replicas (the model autoscaler's
    # max_replicas_cpu) under the c=64 level, and the next model must still fit (with the
    # machine's 2 cores the tiny CNN was once refused: "no ready worker has room").
    run(["up", "--local", "--port", "0", "--workers", "cpu=1", "--max-workers", "cpu=1", "--worker-cores", str(2 * len(models)), "--wait-s", "90"], home)
    for key in models:
        folder = MODELS[key][0]
        run(["register", os.path.join(configs, f"{variant_name(folder)}.config"), f"file://{folder}/"], home)
    state = json.load(open(os.path.join(home, "cluster/cluster.json")))
    token = open(os.path.join(home, "cluster/token")).read().strip()
    return state["master"], {"authorization": f"Bearer {token}"}


def kserve_peer(folder, name):
    grpc_port, http_port = free_port(), free_port()
    log = open(os.path.join(tempfile.gettempdir(), f"bench-kserve-{name}.log"), "w")
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts/bench_peer_kserve.py"), os.path.join(folder, "model.onnx"), name,
                                str(grpc_port), str(http_port)], stdout=log, stderr=subprocess.STDOUT)
    address = f"127.0.0.1:{grpc_port}"
    client = tgrpc.InferenceServerClient(url=address)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if client.is_model_ready(name):
                return process, address
        except Exception:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"KServe did not serve {name} within 60 s; see {log.name}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10, help="seconds per concurrency level")
    parser.add_argument("--concurrency", default="1,8,64")
    parser.add_argument("--models", default="ppocr_cls,tiny")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    models = args.models.split(",")
    results = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
               "load_average_at_start": os.getloadavg(), "command": " ".join(sys.argv), "duration_s": args.duration, "models": {}}
    print(f"bench-serving: {results['machine']}, load average {os.getloadavg()[0]:.2f}, {args.duration:g} s per level", flush=True)

    floor_s = min(args.duration, 5)
    empty = percentiles(empty_grpc_round_trip(floor_s))
    results["empty_grpc_round_trip_ms"] = {"p50": empty[0], "p99": empty[1]}
    print(f"empty gRPC round trip (grpcio ↔ grpcio): p50 {empty[0]:.3f} ms, p99 {empty[1]:.3f} ms", flush=True)

    home = tempfile.mkdtemp(prefix="infaas-bench-serving-")
    try:
        address, headers = infaas_cluster(home, models)
        live = percentiles(server_live_round_trip(address, headers, floor_s))
        results["infaas_server_live_ms"] = {"p50": live[0], "p99": live[1]}
        print(f"v2 ServerLive on the infaas master (tritonclient ↔ grpc-swift): p50 {live[0]:.3f} ms, p99 {live[1]:.3f} ms", flush=True)
        for key in models:
            folder, shape = MODELS[key][0], MODELS[key][1]
            variant = variant_name(folder)
            bare = percentiles(bare_onnxruntime(folder, shape, floor_s))
            entry = {"variant": variant, "bare_onnxruntime_ms": {"p50": bare[0], "p99": bare[1]}}
            print(f"\n{key} ({variant}), batch 1: bare ONNX Runtime p50 {bare[0]:.3f} ms, p99 {bare[1]:.3f} ms", flush=True)
            print("  infaas-swift (v2 gRPC → master → worker):", flush=True)
            entry["infaas"] = drive(address, variant, variant_key(folder, "input_name"), shape, levels, args.duration, headers)
            results["models"][key] = entry
    finally:
        subprocess.run([INFAAS, "down", "--home", home], capture_output=True, timeout=60)

    if not args.no_peer:
        for key in models:
            folder, shape = MODELS[key][0], MODELS[key][1]
            process, address = kserve_peer(folder, key)
            try:
                print(f"  {key}: KServe ModelServer + onnxruntime (v2 gRPC, one hop):", flush=True)
                results["models"][key]["kserve"] = drive(address, key, variant_key(folder, "input_name"), shape, levels, args.duration, {})
            finally:
                process.terminate()
                process.wait(timeout=30)

    print("\n| model | concurrency | infaas p50 ms | infaas p99 ms | infaas q/s | KServe p50 ms | KServe p99 ms | KServe q/s |")
    print("|---|---|---|---|---|---|---|---|")
    notes = []
    for key, entry in results["models"].items():
        for c in levels:
            a = entry["infaas"][c]
            b = entry.get("kserve", {}).get(c)
            peer = f"{b['p50_ms']:.2f} | {b['p99_ms']:.2f} | {b['throughput_qps']:.0f}" if b else "— | — | —"
            print(f"| {key} | {c} | {a['p50_ms']:.2f} | {a['p99_ms']:.2f} | {a['throughput_qps']:.0f} | {peer} |")
        overhead = entry["infaas"][levels[0]]["p50_ms"] - entry["bare_onnxruntime_ms"]["p50"]
        notes.append(f"{key}: served p50 − bare ORT p50 at c={levels[0]}: {overhead:.2f} ms "
                     f"(two empty grpcio round trips: {2 * empty[0]:.2f} ms; goal ≤ 1.2 × that = {2.4 * empty[0]:.2f} ms)")
    print("\n" + "\n".join(notes))
    os.makedirs(os.path.join(ROOT, "out/bench-serving"), exist_ok=True)
    with open(os.path.join(ROOT, "out/bench-serving/results.json"), "w") as f:
        json.dump(results, f, indent=2, default=str)
    print("wrote out/bench-serving/results.json")


if __name__ == "__main__":
    main()
