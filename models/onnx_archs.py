"""ImageNet CNN architectures written directly as ONNX graphs with random, seeded weights.

Each builder returns a `Net` whose graph has the layer structure (and therefore the FLOPs) of the
published architecture, following torchvision's definitions:

  resnet18       He et al. 2016, BasicBlock [2,2,2,2]
  resnet50       He et al. 2016, Bottleneck [3,4,6,3], stride on the 3x3 conv ("v1.5", as torchvision)
  mobilenet_v2   Sandler et al. 2018, width 1.0, ReLU6
  squeezenet1_1  Iandola et al. 2016, the v1.1 variant (3x3 stem, early pooling)
  vgg16          Simonyan & Zisserman 2015, configuration D, no BatchNorm

BatchNorm is folded into the preceding convolution (a trained BN layer is an affine map per
channel, so the folded conv has the same cost at inference). Fully connected layers are written as
MatMul + Add rather than Gemm so that ONNX Runtime's dynamic quantisation (which handles MatMul,
not Gemm) covers them; ORT fuses the pair back into a Gemm when it optimises the float graph.

Weights are random: He-normal (gain 2 before a ReLU, 1 before a linear output), with the last conv
of every residual branch scaled by 1/sqrt(#residual blocks) so that activations stay O(1) through
the network instead of doubling at every skip connection. They carry no learned meaning.
"""

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # the IR version that goes with opset 17; keeps the files loadable by older runtimes


class T:
    """A tensor in the graph being built: its name and its (channels, height, width)."""

    def __init__(self, name, c, h, w):
        self.name, self.c, self.h, self.w = name, c, h, w


class Net:
    """Accumulates nodes and initializers, counts MACs and parameters as it goes."""

    def __init__(self, architecture, seed):
        self.architecture = architecture
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.initializers = []
        self.macs = 0          # multiply-accumulates of Conv and fully connected layers
        self.params = 0        # parameters stored in the graph
        self.folded_bn_channels = 0  # channels of the BatchNorm layers folded into convs
        self.output = None
        self._consts = set()

    # -- helpers ---------------------------------------------------------------------------
    def _init(self, name, array):
        self.initializers.append(numpy_helper.from_array(array, name))
        self.params += array.size
        return name

    def _he(self, shape, fan_in, gain):
        scale = math.sqrt(gain / fan_in)
        return (self.rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)).astype(np.float32)

    def _bias(self, n):
        # A folded BN gives each output channel a bias; small random values keep the graph generic.
        return (self.rng.standard_normal(n, dtype=np.float32) * np.float32(0.01)).astype(np.float32)

    def input(self, name, c, h, w):
        return T(name, c, h, w)

    # -- layers ----------------------------------------------------------------------------
    def conv(self, x, name, cout, k, stride=1, pad=0, groups=1, act="relu", bn=True, scale=1.0):
        """Conv (+ folded BN) + activation. `act` is 'relu', 'relu6' or None (linear)."""
        cin_g = x.c // groups
        fan_in = cin_g * k * k
        w = self._he((cout, cin_g, k, k), fan_in, 2.0 if act else 1.0)
        if scale != 1.0:
            w *= np.float32(scale)
        b = self._bias(cout)
        h = (x.h + 2 * pad - k) // stride + 1
        wd = (x.w + 2 * pad - k) // stride + 1
        out = f"{name}.out"
        self.nodes.append(helper.make_node(
            "Conv", [x.name, self._init(f"{name}.weight", w), self._init(f"{name}.bias", b)],
            [out if act is None else f"{name}.conv"], name=name,
            kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=groups))
        self.macs += cout * h * wd * cin_g * k * k
        if bn:
            self.folded_bn_channels += cout
        if act == "relu":
            self.nodes.append(helper.make_node("Relu", [f"{name}.conv"], [out], name=f"{name}.relu"))
        elif act == "relu6":
            lo = self._const("relu6.min", 0.0)
            hi = self._const("relu6.max", 6.0)
            self.nodes.append(helper.make_node("Clip", [f"{name}.conv", lo, hi], [out], name=f"{name}.relu6"))
        return T(out, cout, h, wd)

    def _const(self, name, value):
        # Shared scalars (Clip bounds): initializers, but not parameters.
        if name not in self._consts:
            self._consts.add(name)
            self.initializers.append(numpy_helper.from_array(np.array(value, dtype=np.float32), name))
        return name

    def maxpool(self, x, name, k, stride, pad=0, ceil=False):
        if ceil:
            h = -(-(x.h + 2 * pad - k) // stride) + 1
            w = -(-(x.w + 2 * pad - k) // stride) + 1
        else:
            h = (x.h + 2 * pad - k) // stride + 1
            w = (x.w + 2 * pad - k) // stride + 1
        out = f"{name}.out"
        self.nodes.append(helper.make_node("MaxPool", [x.name], [out], name=name, kernel_shape=[k, k],
                                           strides=[stride, stride], pads=[pad] * 4, ceil_mode=int(ceil)))
        return T(out, x.c, h, w)

    def add_relu(self, a, b, name, relu=True):
        out = f"{name}.out"
        self.nodes.append(helper.make_node("Add", [a.name, b.name], [f"{name}.add" if relu else out],
                                           name=f"{name}.add"))
        if relu:
            self.nodes.append(helper.make_node("Relu", [f"{name}.add"], [out], name=f"{name}.relu"))
        return T(out, a.c, a.h, a.w)

    def concat(self, xs, name):
        out = f"{name}.out"
        self.nodes.append(helper.make_node("Concat", [x.name for x in xs], [out], name=name, axis=1))
        return T(out, sum(x.c for x in xs), xs[0].h, xs[0].w)

    def global_avgpool_flatten(self, x, name):
        self.nodes.append(helper.make_node("GlobalAveragePool", [x.name], [f"{name}.pool"], name=f"{name}.pool"))
        self.nodes.append(helper.make_node("Flatten", [f"{name}.pool"], [f"{name}.out"], name=f"{name}.flatten", axis=1))
        return T(f"{name}.out", x.c, 1, 1)

    def flatten(self, x, name):
        self.nodes.append(helper.make_node("Flatten", [x.name], [f"{name}.out"], name=name, axis=1))
        return T(f"{name}.out", x.c * x.h * x.w, 1, 1)

    def linear(self, x, name, cout, relu=False):
        """Fully connected layer as MatMul (weight stored [in, out]) + Add (+ Relu)."""
        w = self._he((x.c, cout), x.c, 2.0 if relu else 1.0)
        b = self._bias(cout)
        self.nodes.append(helper.make_node("MatMul", [x.name, self._init(f"{name}.weight", w)],
                                           [f"{name}.mm"], name=f"{name}.matmul"))
        out = f"{name}.out"
        self.nodes.append(helper.make_node("Add", [f"{name}.mm", self._init(f"{name}.bias", b)],
                                           [f"{name}.lin" if relu else out], name=f"{name}.add"))
        if relu:
            self.nodes.append(helper.make_node("Relu", [f"{name}.lin"], [out], name=f"{name}.relu"))
        self.macs += x.c * cout
        return T(out, cout, 1, 1)

    def softmax_output(self, x, name="output"):
        self.nodes.append(helper.make_node("Softmax", [x.name], [name], name="softmax", axis=1))
        self.output = T(name, x.c, 1, 1)
        return self.output

    # -- model -----------------------------------------------------------------------------
    def to_model(self, input_name, input_shape, metadata):
        """`input_shape` is (C, H, W); the batch dimension is the symbolic `N`."""
        inp = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", *input_shape])
        out = helper.make_tensor_value_info(self.output.name, TensorProto.FLOAT, ["N", self.output.c])
        graph = helper.make_graph(self.nodes, self.architecture, [inp], [out], initializer=self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="infaas-swift models/build_models.py")
        model.ir_version = IR_VERSION
        helper.set_model_props(model, metadata)
        return model


# ---------------------------------------------------------------------------------------------
# Architectures. Layer names follow torchvision's module names where there is one.
# ---------------------------------------------------------------------------------------------

def resnet(net, blocks, bottleneck):
    x = net.input("input", 3, 224, 224)
    x = net.conv(x, "conv1", 64, 7, stride=2, pad=3)
    x = net.maxpool(x, "maxpool", 3, 2, pad=1)
    branch_scale = 1.0 / math.sqrt(sum(blocks))
    expansion = 4 if bottleneck else 1
    for li, (n, width) in enumerate(zip(blocks, (64, 128, 256, 512)), start=1):
        for bi in range(n):
            stride = 2 if (bi == 0 and li > 1) else 1
            p = f"layer{li}.{bi}"
            cout = width * expansion
            if bottleneck:
                y = net.conv(x, f"{p}.conv1", width, 1)
                y = net.conv(y, f"{p}.conv2", width, 3, stride=stride, pad=1)
                y = net.conv(y, f"{p}.conv3", cout, 1, act=None, scale=branch_scale)
            else:
                y = net.conv(x, f"{p}.conv1", width, 3, stride=stride, pad=1)
                y = net.conv(y, f"{p}.conv2", cout, 3, pad=1, act=None, scale=branch_scale)
            if stride != 1 or x.c != cout:
                x = net.conv(x, f"{p}.downsample", cout, 1, stride=stride, act=None)
            x = net.add_relu(y, x, p)
    x = net.global_avgpool_flatten(x, "avgpool")
    x = net.linear(x, "fc", 1000)
    net.softmax_output(x)


def mobilenet_v2(net):
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    residual_blocks = sum(n - 1 for _, _, n, _ in settings)  # the repeats: stride 1, same width
    branch_scale = 1.0 / math.sqrt(residual_blocks)
    x = net.input("input", 3, 224, 224)
    x = net.conv(x, "features.0", 32, 3, stride=2, pad=1, act="relu6")
    idx = 1
    for t, c, n, s in settings:
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"features.{idx}"
            hidden = x.c * t
            residual = stride == 1 and x.c == c
            y = x
            if t != 1:
                y = net.conv(y, f"{p}.expand", hidden, 1, act="relu6")
            y = net.conv(y, f"{p}.dw", hidden, 3, stride=stride, pad=1, groups=hidden, act="relu6")
            y = net.conv(y, f"{p}.project", c, 1, act=None, scale=branch_scale if residual else 1.0)
            x = net.add_relu(y, x, p, relu=False) if residual else y
            idx += 1
    x = net.conv(x, f"features.{idx}", 1280, 1, act="relu6")
    x = net.global_avgpool_flatten(x, "avgpool")
    x = net.linear(x, "classifier.1", 1000)  # torchvision's classifier.0 is Dropout (identity here)
    net.softmax_output(x)


def squeezenet1_1(net):
    def fire(x, p, squeeze, e1, e3):
        s = net.conv(x, f"{p}.squeeze", squeeze, 1, bn=False)
        a = net.conv(s, f"{p}.expand1x1", e1, 1, bn=False)
        b = net.conv(s, f"{p}.expand3x3", e3, 3, pad=1, bn=False)
        return net.concat([a, b], f"{p}.cat")

    x = net.input("input", 3, 224, 224)
    x = net.conv(x, "features.0", 64, 3, stride=2, bn=False)
    x = net.maxpool(x, "features.2", 3, 2, ceil=True)
    x = fire(x, "features.3", 16, 64, 64)
    x = fire(x, "features.4", 16, 64, 64)
    x = net.maxpool(x, "features.5", 3, 2, ceil=True)
    x = fire(x, "features.6", 32, 128, 128)
    x = fire(x, "features.7", 32, 128, 128)
    x = net.maxpool(x, "features.8", 3, 2, ceil=True)
    x = fire(x, "features.9", 48, 192, 192)
    x = fire(x, "features.10", 48, 192, 192)
    x = fire(x, "features.11", 64, 256, 256)
    x = fire(x, "features.12", 64, 256, 256)
    x = net.conv(x, "classifier.1", 1000, 1, bn=False)  # classifier.0 is Dropout
    x = net.global_avgpool_flatten(x, "classifier.3")
    net.softmax_output(x)


def vgg16(net):
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    x = net.input("input", 3, 224, 224)
    for i, v in enumerate(cfg):
        if v == "M":
            x = net.maxpool(x, f"features.{i}", 2, 2)
        else:
            x = net.conv(x, f"features.{i}", v, 3, pad=1, bn=False)
    # torchvision's AdaptiveAvgPool2d((7,7)) is the identity for a 224x224 input: left out.
    x = net.flatten(x, "flatten")
    x = net.linear(x, "classifier.0", 4096, relu=True)
    x = net.linear(x, "classifier.3", 4096, relu=True)
    x = net.linear(x, "classifier.6", 1000)
    net.softmax_output(x)


def tinycnn(net):
    """A two-conv CIFAR-sized classifier for fast end-to-end tests (not a published architecture)."""
    x = net.input("input", 3, 32, 32)
    x = net.conv(x, "conv1", 16, 3, pad=1)
    x = net.maxpool(x, "pool1", 2, 2)
    x = net.conv(x, "conv2", 32, 3, pad=1)
    x = net.maxpool(x, "pool2", 2, 2)
    x = net.global_avgpool_flatten(x, "avgpool")
    x = net.linear(x, "fc", 10)
    net.softmax_output(x)


# name -> (builder, input (C,H,W), facts about the published, trained model)
ARCHITECTURES = {
    "resnet18": dict(build=lambda n: resnet(n, [2, 2, 2, 2], False), seed=1801, input=(3, 224, 224),
                     torchvision_params=11_689_512, torchvision_gmacs=1.814, accuracy=69.758,
                     accuracy_source="torchvision ResNet18_Weights.IMAGENET1K_V1 acc@1"),
    "resnet50": dict(build=lambda n: resnet(n, [3, 4, 6, 3], True), seed=5001, input=(3, 224, 224),
                     torchvision_params=25_557_032, torchvision_gmacs=4.089, accuracy=76.13,
                     accuracy_source="torchvision ResNet50_Weights.IMAGENET1K_V1 acc@1"),
    "mobilenet_v2": dict(build=mobilenet_v2, seed=2002, input=(3, 224, 224),
                         torchvision_params=3_504_872, torchvision_gmacs=0.301, accuracy=71.878,
                         accuracy_source="torchvision MobileNet_V2_Weights.IMAGENET1K_V1 acc@1"),
    "squeezenet1_1": dict(build=squeezenet1_1, seed=1101, input=(3, 224, 224),
                          torchvision_params=1_235_496, torchvision_gmacs=0.349, accuracy=58.178,
                          accuracy_source="torchvision SqueezeNet1_1_Weights.IMAGENET1K_V1 acc@1"),
    "vgg16": dict(build=vgg16, seed=1601, input=(3, 224, 224),
                  torchvision_params=138_357_544, torchvision_gmacs=15.47, accuracy=71.592,
                  accuracy_source="torchvision VGG16_Weights.IMAGENET1K_V1 acc@1"),
}


# Test-only architectures: not published, no accuracy of their own.
TINY_ARCHITECTURES = {
    "tinycnn": dict(build=tinycnn, seed=3201, input=(3, 32, 32)),
}


def build(architecture):
    """Build `architecture` (a key of ARCHITECTURES or TINY_ARCHITECTURES) and return the Net."""
    spec = ARCHITECTURES.get(architecture) or TINY_ARCHITECTURES[architecture]
    net = Net(architecture, spec["seed"])
    spec["build"](net)
    return net
