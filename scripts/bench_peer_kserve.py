#!/usr/bin/env python3
"""The peer for scripts/bench-serving: KServe's Python ModelServer serving one ONNX model with
onnxruntime over the Open Inference Protocol v2 (gRPC and REST).

Usage: python scripts/bench_peer_kserve.py MODEL.onnx NAME GRPC_PORT HTTP_PORT [THREADS]
The session is configured as infaas-swift's variant.yaml says for ppocr_cls and tinycnn: graph
optimisation `all`, THREADS intra-op threads (default 1), one inter-op thread.
"""
import sys

import numpy as np
import onnxruntime as ort
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer


class OnnxModel(Model):
    def __init__(self, name, path, threads):
        super().__init__(name)
        self.path = path
        self.threads = threads
        self.session = None
        self.input_name = None

    def load(self):
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(self.path, options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.ready = True
        return self.ready

    def predict(self, payload: InferRequest, headers=None, response_headers=None) -> InferResponse:
        x = payload.inputs[0].as_numpy().astype(np.float32, copy=False)
        outputs = self.session.run(None, {self.input_name: x})
        infer_outputs = []
        for meta, y in zip(self.session.get_outputs(), outputs):
            out = InferOutput(name=meta.name, shape=list(y.shape), datatype="FP32")
            out.set_data_from_numpy(y, binary_data=True)
            infer_outputs.append(out)
        return InferResponse(model_name=self.name, infer_outputs=infer_outputs, response_id=payload.id)


if __name__ == "__main__":
    path, name, grpc_port, http_port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    model = OnnxModel(name, path, threads)
    model.load()
    ModelServer(grpc_port=grpc_port, http_port=http_port, workers=1, enable_docs_url=False).start([model])
