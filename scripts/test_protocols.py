#!/usr/bin/env python3
"""Real clients against a local infaas-swift cluster (scripts/test runs this through .venv-clients).

Starts `infaas up --local` with the bundled tiny model (models/tiny), then:
  * tritonclient gRPC and HTTP: liveness, readiness, server and model metadata, model config and
    statistics, inference by variant and model-less (architecture, task/dataset), and bad input
    (unknown model, wrong datatype, wrong shape, oversized batch, missing token) expecting the
    protocol's error status and a message naming the value;
  * a client generated here with grpcio-tools from our copies of the original INFaaS .proto
    files: Heartbeat, RegisterModel, AllParentInfo, QueryModelInfo, QueryOnline (parent_model +
    LatencyInUSec, and by variant), QueryOffline (a file:// folder inside the master's
    --offline-root: the job writes <file>.out and its _SUCCESS file; a bare path is a bucket
    path, refused without S3), with the original's RequestReply statuses;
  * over TLS: a second cluster started with --tls-cert/--tls-key (a self-signed certificate
    made here with openssl): tritonclient HTTP over https (liveness, metadata, inference by
    variant and model-less, the token still required) and gRPC with the certificate as root;
    a plain-http request to the https port gets no answer.

Usage: INFAAS=.build/debug/infaas .venv-clients/bin/python scripts/test_protocols.py
Exit status 0 when every check passed; each failed check is printed.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import grpc
from grpc_tools import protoc
import tritonclient.grpc as tgrpc
import tritonclient.http as thttp
from tritonclient.utils import InferenceServerException

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INFAAS = os.environ.get("INFAAS", os.path.join(ROOT, ".build/debug/infaas"))
PROTOS = os.path.join(ROOT, "Sources/InfaasRPC/Protos")
TINY = os.path.join(ROOT, "models/tiny")
B1 = "tinycnn_onnxruntime-cpu_t1_b1"
B8 = "tinycnn_onnxruntime-cpu_t1_b8"

failures = []
passed = 0


def check(condition, what):
    global passed
    if condition:
        passed += 1
        print(f"ok   {what}")
    else:
        failures.append(what)
        print(f"FAIL {what}")


def run(args, home, timeout=300):
    extra = [] if args[0] == "profile" else ["--home", home]  # profile keeps no cluster state
    out = subprocess.run([INFAAS] + args + extra, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"infaas {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out.stdout


def expect_error(call, status, contains, what):
    """`call` must raise InferenceServerException with `status` and a message containing `contains`."""
    try:
        call()
    except InferenceServerException as e:
        check(str(e.status()) == status and contains in (e.message() or ""),
              f"{what}: {status} naming {contains!r} (got {e.status()}: {e.message()})")
        return
    check(False, f"{what}: expected {status}, the call succeeded")


def tiny_input(batch):
    rng = np.random.default_rng(batch)
    return rng.random((batch, 3, 32, 32), dtype=np.float32)


def generated_original_api(directory):
    """Python modules for the original API, generated from our .proto files with grpcio-tools."""
    names = ["request_reply.proto", "queryfe.proto", "modelreg.proto"]
    code = protoc.main(["protoc", f"-I{PROTOS}", f"--python_out={directory}", f"--grpc_python_out={directory}"] + names)
    if code != 0:
        raise RuntimeError(f"grpc_tools.protoc failed ({code})")
    sys.path.insert(0, directory)
    import queryfe_pb2, queryfe_pb2_grpc, modelreg_pb2, modelreg_pb2_grpc, request_reply_pb2  # noqa: E401
    return queryfe_pb2, queryfe_pb2_grpc, modelreg_pb2, modelreg_pb2_grpc, request_reply_pb2


def our_v2_protos_match_tritons():
    """Every field of our grpc_service.proto / model_config.proto has tritonclient's number and type."""
    from google.protobuf import descriptor_pb2
    from tritonclient.grpc import service_pb2, model_config_pb2
    out = os.path.join(tempfile.mkdtemp(prefix="infaas-v2-proto-"), "v2.pb")
    code = protoc.main(["protoc", f"-I{PROTOS}", f"--descriptor_set_out={out}", "grpc_service.proto", "model_config.proto"])
    if code != 0:
        raise RuntimeError(f"grpc_tools.protoc failed on our v2 protos ({code})")
    ours = descriptor_pb2.FileDescriptorSet.FromString(open(out, "rb").read())
    theirs = {}
    for module in (service_pb2, model_config_pb2):
        def collect(d):
            theirs[d.full_name] = d
            for n in d.nested_types:
                collect(n)
        for d in module.DESCRIPTOR.message_types_by_name.values():
            collect(d)
    mismatches, fields = [], 0

    def compare(prefix, message):
        nonlocal fields
        name = f"{prefix}.{message.name}"
        reference = theirs.get(name)
        if reference is None:
            mismatches.append(f"{name}: not in tritonclient")
            return
        for field in message.field:
            fields += 1
            other = reference.fields_by_name.get(field.name)
            if other is None or other.number != field.number or other.type != field.type:
                mismatches.append(f"{name}.{field.name} = {field.number} (type {field.type}); tritonclient: "
                                  + ("absent" if other is None else f"{other.number} (type {other.type})"))
        for nested in message.nested_type:
            if not nested.options.map_entry:
                compare(name, nested)

    services = 0
    for f in ours.file:
        for message in f.message_type:
            compare(f.package, message)
        for service in f.service:
            reference = service_pb2.DESCRIPTOR.services_by_name[service.name]
            for method in service.method:
                services += 1
                other = reference.methods_by_name.get(method.name)
                if other is None or other.input_type.full_name != method.input_type.lstrip(".") or other.output_type.full_name != method.output_type.lstrip("."):
                    mismatches.append(f"rpc {service.name}.{method.name} differs from tritonclient's")
    check(not mismatches and fields > 60, f"our v2 .proto files match tritonclient's: {fields} fields, {services} rpcs"
          + ("" if not mismatches else f"; mismatches: {mismatches}"))


def main():
    our_v2_protos_match_tritons()
    home = tempfile.mkdtemp(prefix="infaas-protocols-")
    configs = os.path.join(home, "configs")
    try:
        # Profile the two tiny variants here (configs/<variant>.config); register B8 by the CLI
        # and B1 through the original API's RegisterModel, which reads --config-dir.
        for variant, batches in ((B1, "1"), (B8, "1,4,8")):
            run(["profile", f"{TINY}/{variant}/model.onnx", "--variant", variant, "--architecture", "tinycnn",
                 "--task", "classification", "--dataset", "cifar10", "--accuracy", "10", "--batches", batches,
                 "--runs", "20", "--output", os.path.join(home, "p.h5"), "--config-dir", configs], home)
        offline_root = os.path.join(home, "offline")
        os.makedirs(os.path.join(offline_root, "in"))
        shutil.copy(os.path.join(ROOT, "samples/mug_224.png"), os.path.join(offline_root, "in"))
        up = run(["up", "--local", "--port", "0", "--http-port", "0", "--workers", "cpu=1", "--max-workers", "cpu=1",
                  "--config-dir", configs, "--wait-s", "90", "--master-arg=--offline-root", f"--master-arg={offline_root}"], home)
        print(up.strip())
        state = json.load(open(os.path.join(home, "cluster/cluster.json")))
        grpc_address = state["master"]
        http_address = f"127.0.0.1:{state['httpPort']}"
        token = open(os.path.join(home, "cluster/token")).read().strip()
        run(["register", os.path.join(configs, f"{B8}.config"), f"file://{TINY}/{B8}/"], home)

        original_api(grpc_address, token, offline_root)
        triton_grpc(grpc_address, token)
        triton_http(http_address, token)
        subprocess.run([INFAAS, "down", "--home", home], capture_output=True, timeout=60)
        over_tls(configs)
    finally:
        subprocess.run([INFAAS, "down", "--home", home], capture_output=True, timeout=60)
        shutil.rmtree(home, ignore_errors=True)
    print(f"{passed} checks passed, {len(failures)} failed")
    for f in failures:
        print(f"  failed: {f}")
    return 1 if failures else 0


def original_api(address, token, offline_root):
    gen = tempfile.mkdtemp(prefix="infaas-original-api-")
    queryfe_pb2, queryfe_grpc, modelreg_pb2, modelreg_grpc, rr = generated_original_api(gen)
    channel = grpc.insecure_channel(address)
    auth = [("authorization", f"Bearer {token}")]
    query = queryfe_grpc.QueryStub(channel)
    reg = modelreg_grpc.ModelRegStub(channel)

    hb = query.Heartbeat(queryfe_pb2.HeartbeatRequest(), metadata=auth)
    check(hb.status.status == rr.SUCCESS, "original Query.Heartbeat: SUCCESS")
    hb = reg.Heartbeat(modelreg_pb2.HeartbeatRequest(), metadata=auth)
    check(hb.status.status == rr.SUCCESS, "original ModelReg.Heartbeat: SUCCESS")

    # As infaas_modelregistration sends it: submitter tester, first_variant, config_name, url.
    request = modelreg_pb2.ModelRegRequest(submitter="tester", first_variant=B1, config_name=f"{B1}.config", url=f"file://{TINY}/{B1}/")
    reply = reg.RegisterModel(request, metadata=auth)
    check(reply.status.status == rr.SUCCESS and reply.status.msg == "Successfully registered model",
          f"original RegisterModel {B1}: SUCCESS (got {reply.status.status} {reply.status.msg!r})")
    again = reg.RegisterModel(request, metadata=auth)
    # A retried identical registration succeeds (a client that lost the first reply may retry).
    check(again.status.status == rr.SUCCESS,
          f"original RegisterModel retried with the same config: SUCCESS (got {again.status.status} {again.status.msg!r})")
    missing = reg.RegisterModel(modelreg_pb2.ModelRegRequest(submitter="tester", config_name="nope.config", url=f"file://{TINY}/{B1}/"), metadata=auth)
    check(missing.status.status == rr.INVALID and "Failed to GET configuration file nope.config" in missing.status.msg,
          f"original RegisterModel of a missing config: INVALID naming it (got {missing.status.msg!r})")

    parents = query.AllParentInfo(queryfe_pb2.AllParRequest(task="classification", dataset="cifar10"), metadata=auth)
    check(parents.reply.status.status == rr.SUCCESS and list(parents.reply.all_models) == ["tinycnn"],
          f"original AllParentInfo classification/cifar10: [tinycnn] (got {list(parents.reply.all_models)})")
    info = query.QueryModelInfo(queryfe_pb2.QueryModelInfoRequest(model="tinycnn"), metadata=auth)
    check(info.reply.status.status == rr.SUCCESS and info.reply.img_dim == 32 and set(info.reply.all_models) == {B1, B8},
          f"original QueryModelInfo tinycnn: img_dim 32, both variants (got {info.reply.img_dim}, {list(info.reply.all_models)})")
    unknown = query.QueryModelInfo(queryfe_pb2.QueryModelInfoRequest(model="resnet999"), metadata=auth)
    check(unknown.reply.status.status == rr.INVALID and "Parent model has not been registered" in unknown.reply.status.msg,
          f"original QueryModelInfo of an unknown parent: INVALID (got {unknown.reply.status.msg!r})")

    image = tiny_input(1)[0]
    online = query.QueryOnline(queryfe_pb2.QueryOnlineRequest(raw_input=[image.tobytes()], parent_model="tinycnn",
                                                              slo=queryfe_pb2.QuerySLO(LatencyInUSec=2_000_000)), metadata=auth, timeout=60)
    ok = online.status.status == rr.SUCCESS and len(online.raw_output) == 1 and len(online.raw_output[0]) == 40
    check(ok, f"original QueryOnline parent_model + LatencyInUSec: SUCCESS, one 10-float output (got {online.status.status} {online.status.msg!r})")
    if ok:
        probabilities = np.frombuffer(online.raw_output[0], dtype=np.float32)
        check(abs(float(probabilities.sum()) - 1) < 1e-3, f"original QueryOnline output is a softmax (sum {probabilities.sum():.4f})")
    batch = query.QueryOnline(queryfe_pb2.QueryOnlineRequest(raw_input=[x.tobytes() for x in tiny_input(3)], model_variant=B8), metadata=auth, timeout=60)
    check(batch.status.status == rr.SUCCESS and len(batch.raw_output) == 3, f"original QueryOnline model_variant, batch 3: three outputs (got {len(batch.raw_output)})")
    unregistered = query.QueryOnline(queryfe_pb2.QueryOnlineRequest(raw_input=[image.tobytes()], parent_model="resnet999",
                                                                    slo=queryfe_pb2.QuerySLO(LatencyInUSec=100_000)), metadata=auth)
    check(unregistered.status.status == rr.UNAVAILABLE and "Parent model has not been registered" in unregistered.status.msg,
          f"original QueryOnline unknown parent: UNAVAILABLE (got {unregistered.status.status} {unregistered.status.msg!r})")

    # QueryOffline as infaas_offline_query sends it: input and output folders, the parent model.
    inputs, outputs = os.path.join(offline_root, "in"), os.path.join(offline_root, "out")
    offline = query.QueryOffline(queryfe_pb2.QueryOfflineRequest(input_url=f"file://{inputs}/", output_url=f"file://{outputs}/",
                                                                 model="tinycnn", submitter="tester"), metadata=auth, timeout=60)
    check(offline.status.status == rr.SUCCESS and "submitted" in offline.status.msg,
          f"original QueryOffline file:// folders, parent tinycnn: SUCCESS (got {offline.status.status} {offline.status.msg!r})")
    if offline.status.status == rr.SUCCESS:
        # The job runs after the reply; wait for its _SUCCESS file (bounded so a hang fails, not blocks).
        deadline = time.monotonic() + 180
        while not glob.glob(os.path.join(outputs, "_SUCCESS-*.txt")) and time.monotonic() < deadline:
            time.sleep(0.5)
        markers = glob.glob(os.path.join(outputs, "_SUCCESS-*.txt"))
        check(len(markers) == 1, f"original QueryOffline: the job wrote its _SUCCESS file (found {[os.path.basename(m) for m in markers]})")
        out_file = os.path.join(outputs, "mug_224.png.out")
        if os.path.exists(out_file):
            values = np.fromfile(out_file, dtype=np.float32)
            check(values.size == 10 and abs(float(values.sum()) - 1) < 1e-3,
                  f"original QueryOffline: mug_224.png.out holds one 10-float softmax (got {values.size} values, sum {values.sum():.4f})")
        else:
            check(False, f"original QueryOffline: mug_224.png.out exists (output folder: {sorted(os.listdir(outputs)) if os.path.isdir(outputs) else 'missing'})")
    unknown_parent = query.QueryOffline(queryfe_pb2.QueryOfflineRequest(input_url=f"file://{inputs}/", output_url=f"file://{outputs}/",
                                                                        model="resnet999", submitter="tester"), metadata=auth)
    check(unknown_parent.status.status != rr.SUCCESS and "resnet999" in unknown_parent.status.msg,
          f"original QueryOffline of an unknown parent: refused naming it (got {unknown_parent.status.status} {unknown_parent.status.msg!r})")
    # As the original: a URL without a scheme is an S3 bucket/prefix; this cluster has no S3 access.
    bare = query.QueryOffline(queryfe_pb2.QueryOfflineRequest(input_url=inputs, output_url=outputs, model="tinycnn", submitter="tester"),
                              metadata=auth)
    check(bare.status.status != rr.SUCCESS and "s3://" in bare.status.msg,
          f"original QueryOffline of a bare path: read as an S3 bucket path and refused (got {bare.status.status} {bare.status.msg!r})")

    try:
        query.Heartbeat(queryfe_pb2.HeartbeatRequest())
        check(False, "original API without the token: UNAUTHENTICATED (the call succeeded)")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.UNAUTHENTICATED and "bearer token" in e.details(), f"original API without the token: UNAUTHENTICATED (got {e.code()})")


def triton_grpc(address, token):
    client = tgrpc.InferenceServerClient(url=address)
    auth = {"authorization": f"Bearer {token}"}
    check(client.is_server_live(headers=auth), "gRPC ServerLive")
    check(client.is_server_ready(headers=auth), "gRPC ServerReady")
    metadata = client.get_server_metadata(headers=auth)
    check(metadata.name == "infaas-swift" and "binary_tensor_data" in metadata.extensions, f"gRPC ServerMetadata ({metadata.name})")
    check(client.is_model_ready(B8, headers=auth), f"gRPC ModelReady {B8}")
    variant = client.get_model_metadata(B8, headers=auth)
    check([i.name for i in variant.inputs] == ["input"] and list(variant.inputs[0].shape) == [-1, 3, 32, 32] and variant.inputs[0].datatype == "FP32",
          f"gRPC ModelMetadata {B8}: input [-1, 3, 32, 32] FP32 (got {variant.inputs})")
    arch = client.get_model_metadata("tinycnn", headers=auth)
    check(set(arch.versions) == {B1, B8}, f"gRPC ModelMetadata of the architecture lists its variants (got {list(arch.versions)})")
    config = client.get_model_config(B8, headers=auth).config
    check(config.max_batch_size == 8 and config.platform == "onnxruntime_onnx" and list(config.input[0].dims) == [3, 32, 32],
          f"gRPC ModelConfig {B8}: max batch 8, dims [3, 32, 32] (got {config.max_batch_size}, {list(config.input[0].dims)})")

    def infer(model, batch, parameters=None, datatype="FP32", data=None, headers=auth):
        x = data if data is not None else tiny_input(batch)
        tensor = tgrpc.InferInput("input", list(x.shape), datatype)
        tensor.set_data_from_numpy(x)
        return client.infer(model, [tensor], parameters=parameters, headers=dict(headers))

    result = infer(B8, 2)
    out = result.as_numpy("output")
    params = result.get_response().parameters
    check(out is not None and out.shape == (2, 10) and abs(float(out.sum()) - 2) < 1e-3, f"gRPC ModelInfer {B8} batch 2: [2, 10] softmax (got {None if out is None else out.shape})")
    check(params["variant"].string_param == B8 and params["worker"].string_param != "", f"gRPC ModelInfer response parameters name variant and worker ({params['variant'].string_param}, {params['worker'].string_param})")

    result = infer("tinycnn", 1, parameters={"slo_ms": 2000})
    params = result.get_response().parameters
    check(params["variant"].string_param in (B1, B8) and params["reason"].string_param != "" and result.as_numpy("output").shape == (1, 10),
          f"gRPC model-less by architecture + slo_ms: chose {params['variant'].string_param} ({params['reason'].string_param})")
    result = infer("classification/cifar10", 4, parameters={"slo_ms": 2000, "min_accuracy": 5})
    params = result.get_response().parameters
    check(params["variant"].string_param == B8 and result.as_numpy("output").shape == (4, 10),
          f"gRPC model-less by task/dataset, batch 4: the b8 variant (got {params['variant'].string_param})")
    stats = client.get_inference_statistics(B8, headers=auth)
    check(stats.model_stats[0].inference_count >= 2, f"gRPC ModelStatistics {B8}: counts its queries ({stats.model_stats[0].inference_count})")

    expect_error(lambda: infer("resnet999", 1), "StatusCode.NOT_FOUND", "resnet999", "gRPC unknown model")
    expect_error(lambda: infer(B8, 1, datatype="FP64", data=tiny_input(1).astype(np.float64)), "StatusCode.INVALID_ARGUMENT", "FP64", "gRPC wrong datatype")
    expect_error(lambda: infer(B8, 1, data=np.zeros((1, 3, 16, 16), dtype=np.float32)), "StatusCode.INVALID_ARGUMENT", "[1, 3, 16, 16]", "gRPC wrong shape")
    expect_error(lambda: infer(B8, 16), "StatusCode.INVALID_ARGUMENT", "batch 16", "gRPC oversized batch")
    expect_error(lambda: infer("tinycnn", 1), "StatusCode.INVALID_ARGUMENT", "latency SLO", "gRPC architecture without slo_ms")
    expect_error(lambda: infer(B8, 1, headers={}), "StatusCode.UNAUTHENTICATED", "bearer token", "gRPC missing token")
    expect_error(lambda: client.get_model_metadata("resnet999", headers=auth), "StatusCode.NOT_FOUND", "resnet999", "gRPC ModelMetadata of an unknown model")


def triton_http(address, token):
    client = thttp.InferenceServerClient(url=address)
    auth = {"Authorization": f"Bearer {token}"}
    check(client.is_server_live(headers=auth), "HTTP /v2/health/live")
    check(client.is_server_ready(headers=auth), "HTTP /v2/health/ready")
    check(client.get_server_metadata(headers=auth)["name"] == "infaas-swift", "HTTP GET /v2")
    check(client.is_model_ready(B8, headers=auth), f"HTTP /v2/models/{B8}/ready")
    variant = client.get_model_metadata(B8, headers=auth)
    check(variant["inputs"][0]["shape"] == [-1, 3, 32, 32], f"HTTP model metadata {B8} (got {variant['inputs']})")
    check(set(client.get_model_metadata("tinycnn", headers=auth)["versions"]) == {B1, B8}, "HTTP metadata of the architecture lists its variants")
    check(client.get_model_config(B8, headers=auth)["max_batch_size"] == 8, f"HTTP /v2/models/{B8}/config")

    def infer(model, batch, parameters=None, datatype="FP32", data=None, binary=True, headers=auth, outputs=None):
        x = data if data is not None else tiny_input(batch)
        tensor = thttp.InferInput("input", list(x.shape), datatype)
        tensor.set_data_from_numpy(x, binary_data=binary)
        requested = [thttp.InferRequestedOutput(name, binary_data=binary) for name in outputs] if outputs else None
        # A copy: tritonclient writes Inference-Header-Content-Length into the dict it is given.
        return client.infer(model, [tensor], parameters=parameters, headers=dict(headers), outputs=requested)

    result = infer(B8, 2)
    out = result.as_numpy("output")
    check(out is not None and out.shape == (2, 10) and abs(float(out.sum()) - 2) < 1e-3, "HTTP infer, binary tensors: [2, 10] softmax")
    check(result.get_response()["parameters"]["variant"] == B8, "HTTP infer response parameters name the variant")
    json_result = infer(B8, 2, binary=False, outputs=["output"])
    check(np.allclose(json_result.as_numpy("output"), out, atol=1e-6), "HTTP infer, JSON tensors: the same output")
    result = infer("classification/cifar10", 1, parameters={"slo_ms": 2000, "min_accuracy": 5})
    check(result.get_response()["parameters"]["variant"] in (B1, B8), f"HTTP model-less by task/dataset: {result.get_response()['parameters']['variant']}")

    expect_error(lambda: infer("resnet999", 1), "404", "resnet999", "HTTP unknown model")
    expect_error(lambda: infer(B8, 1, datatype="FP64", data=tiny_input(1).astype(np.float64)), "400", "FP64", "HTTP wrong datatype")
    expect_error(lambda: infer(B8, 1, data=np.zeros((1, 3, 16, 16), dtype=np.float32)), "400", "[1, 3, 16, 16]", "HTTP wrong shape")
    expect_error(lambda: infer(B8, 16), "400", "batch 16", "HTTP oversized batch")
    expect_error(lambda: infer(B8, 1, headers={}), "401", "bearer token", "HTTP missing token")
    expect_error(lambda: client.get_model_metadata("resnet999", headers=auth), "404", "resnet999", "HTTP metadata of an unknown model")


def over_tls(configs):
    """A second cluster with TLS on (the same flags as the native API's): v2 REST over https and
    v2 gRPC with the self-signed certificate as the trust root; the bearer token still applies."""
    home = tempfile.mkdtemp(prefix="infaas-protocols-tls-")
    try:
        cert, key = os.path.join(home, "cert.pem"), os.path.join(home, "key.pem")
        made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                               "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], capture_output=True, text=True)
        if made.returncode != 0:
            check(False, f"openssl made a self-signed certificate for the TLS checks ({made.stderr.strip()[-200:]})")
            return
        run(["up", "--local", "--port", "0", "--http-port", "0", "--workers", "cpu=1", "--max-workers", "cpu=1",
             "--config-dir", configs, "--wait-s", "90", "--tls-cert", cert, "--tls-key", key], home)
        run(["register", os.path.join(configs, f"{B8}.config"), f"file://{TINY}/{B8}/"], home)
        state = json.load(open(os.path.join(home, "cluster/cluster.json")))
        http_address = f"127.0.0.1:{state['httpPort']}"
        token = open(os.path.join(home, "cluster/token")).read().strip()
        auth = {"Authorization": f"Bearer {token}"}

        client = thttp.InferenceServerClient(url=http_address, ssl=True, ssl_options={"ca_certs": cert})
        check(client.is_server_live(headers=auth), "HTTPS /v2/health/live (TLS, the certificate as trust root)")
        check(client.get_server_metadata(headers=auth)["name"] == "infaas-swift", "HTTPS GET /v2")
        check(client.get_model_metadata(B8, headers=auth)["inputs"][0]["shape"] == [-1, 3, 32, 32], f"HTTPS model metadata {B8}")

        def infer(model, batch, parameters=None, headers=auth):
            x = tiny_input(batch)
            tensor = thttp.InferInput("input", list(x.shape), "FP32")
            tensor.set_data_from_numpy(x, binary_data=True)
            return client.infer(model, [tensor], parameters=parameters, headers=dict(headers))

        result = infer(B8, 2)
        out = result.as_numpy("output")
        check(out is not None and out.shape == (2, 10) and abs(float(out.sum()) - 2) < 1e-3, f"HTTPS infer {B8} batch 2: [2, 10] softmax")
        result = infer("tinycnn", 1, parameters={"slo_ms": 2000})
        check(result.get_response()["parameters"]["variant"] == B8, f"HTTPS model-less by architecture: {result.get_response()['parameters']['variant']}")
        expect_error(lambda: infer(B8, 1, headers={}), "401", "bearer token", "HTTPS missing token")

        untrusted = thttp.InferenceServerClient(url=http_address, ssl=True)  # the system's roots: the self-signed certificate fails
        try:
            untrusted.is_server_live(headers=auth)
            check(False, "HTTPS with a client that does not trust the certificate: refused (it answered)")
        except Exception as e:
            check("CERTIFICATE_VERIFY_FAILED" in str(e) or "certificate" in str(e).lower(),
                  f"HTTPS with a client that does not trust the certificate: refused ({type(e).__name__})")
        plain = thttp.InferenceServerClient(url=http_address, network_timeout=10, connection_timeout=10)
        try:
            plain.is_server_live(headers=auth)
            check(False, "plain http to the https port: no answer (it answered)")
        except Exception as e:
            check(True, f"plain http to the https port: no answer ({type(e).__name__})")

        secure = tgrpc.InferenceServerClient(url=state["master"], ssl=True, root_certificates=cert)
        grpc_auth = {"authorization": f"Bearer {token}"}  # gRPC metadata keys are lower case
        check(secure.is_server_live(headers=grpc_auth), "gRPC v2 over TLS: ServerLive")
        x = tiny_input(1)
        tensor = tgrpc.InferInput("input", list(x.shape), "FP32")
        tensor.set_data_from_numpy(x)
        answer = secure.infer(B8, [tensor], headers=grpc_auth)
        check(answer.as_numpy("output").shape == (1, 10), "gRPC v2 over TLS: ModelInfer")
    finally:
        subprocess.run([INFAAS, "down", "--home", home], capture_output=True, timeout=60)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    start = time.monotonic()
    code = main()
    print(f"({time.monotonic() - start:.1f} s)")
    sys.exit(code)
