#!/usr/bin/env python3
"""Regenerates the InfaasRuntime test fixtures (deterministic; run from anywhere):

  tiny_cnn.onnx        input "image" [batch,3,8,8] -> Conv(4,3x3,pad 1) -> Relu -> GlobalAveragePool
                       -> Flatten -> outputs "logits" = Gemm [batch,4] and "features" [batch,4]
  tiny_cnn.expected.json  a fixed [3,3,8,8] input and both outputs computed here with numpy
  int_input.onnx       one int64 input (the backend must refuse it)
  rgb.png, gray.png, palette.png, rgba.png, flat.png, flat.jpg, halves.jpg   small images, pixel values below
  not-an-image.txt

Needs numpy, onnx and Pillow (`pip install numpy onnx pillow`); the tests need none of them.
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def tiny_cnn():
    rng = np.random.default_rng(42)
    conv_w = rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32)
    conv_b = rng.normal(0, 0.1, (4,)).astype(np.float32)
    gemm_w = rng.normal(0, 0.5, (4, 4)).astype(np.float32)  # [out, in], used with transB=1
    gemm_b = rng.normal(0, 0.1, (4,)).astype(np.float32)

    nodes = [
        helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["features"], axis=1),
        helper.make_node("Gemm", ["features", "gemm_w", "gemm_b"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 4]),
         helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 4])],
        [numpy_helper.from_array(conv_w, "conv_w"), numpy_helper.from_array(conv_b, "conv_b"),
         numpy_helper.from_array(gemm_w, "gemm_w"), numpy_helper.from_array(gemm_b, "gemm_b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="infaas-swift fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path("tiny_cnn.onnx"))

    x = np.random.default_rng(7).uniform(-1, 1, (3, 3, 8, 8)).astype(np.float32)
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((3, 4, 8, 8))
    for o in range(4):
        for i in range(8):
            for j in range(8):
                window = padded[:, :, i:i + 3, j:j + 3]
                conv[:, o, i, j] = (window * conv_w[o]).sum(axis=(1, 2, 3)) + conv_b[o]
    features = np.maximum(conv, 0).mean(axis=(2, 3))
    logits = features @ gemm_w.T.astype(np.float64) + gemm_b
    expected = {
        "input_shape": list(x.shape),
        "input": [float(v) for v in x.ravel()],
        "logits": [float(v) for v in logits.ravel()],
        "features": [float(v) for v in features.ravel()],
    }
    with open(path("tiny_cnn.expected.json"), "w") as f:
        json.dump(expected, f)


def int_input():
    graph = helper.make_graph(
        [helper.make_node("Cast", ["ids"], ["out"], to=TensorProto.FLOAT)], "int_input",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", 2])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path("int_input.onnx"))


def images():
    # rgb.png, 4x3: row-major pixels
    rgb = np.array([
        [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]],
        [[40, 50, 60], [70, 80, 90], [100, 110, 120], [130, 140, 150]],
        [[0, 0, 0], [255, 255, 255], [1, 2, 3], [250, 251, 252]],
    ], dtype=np.uint8)
    Image.fromarray(rgb, "RGB").save(path("rgb.png"))
    # gray.png, 3x2 greyscale
    Image.fromarray(np.array([[0, 100, 200], [50, 150, 255]], dtype=np.uint8), "L").save(path("gray.png"))
    # palette.png, 4x2 with a 3-colour palette: index 0 = (255,0,0), 1 = (0,128,0), 2 = (0,0,255)
    pal = Image.fromarray(np.array([[0, 1, 2, 0], [2, 2, 1, 0]], dtype=np.uint8), "P")
    pal.putpalette([255, 0, 0, 0, 128, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    pal.save(path("palette.png"))
    # rgba.png, 2x1: alpha differs, colour must survive as is
    Image.fromarray(np.array([[[10, 20, 30, 0], [200, 100, 50, 128]]], dtype=np.uint8), "RGBA").save(path("rgba.png"))
    # flat.png, 6x4 of (200,100,50)
    Image.new("RGB", (6, 4), (200, 100, 50)).save(path("flat.png"))
    # flat.jpg, 16x16 of (200,100,50)
    Image.new("RGB", (16, 16), (200, 100, 50)).save(path("flat.jpg"), quality=95)
    # halves.jpg, 32 wide x 16 high: left half red (220,30,30), right half blue (30,30,220)
    halves = np.zeros((16, 32, 3), dtype=np.uint8)
    halves[:, :16] = (220, 30, 30)
    halves[:, 16:] = (30, 30, 220)
    Image.fromarray(halves, "RGB").save(path("halves.jpg"), quality=95)
    with open(path("not-an-image.txt"), "w") as f:
        f.write("hello, this is plain text and not a picture\n")


if __name__ == "__main__":
    tiny_cnn()
    int_input()
    images()
    print("fixtures written to", HERE)
