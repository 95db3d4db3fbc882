#!/usr/bin/env python3
"""Build the ONNX model variants that INFaaS-Swift's live mode serves (a `file://` model repository).

    python3 models/build_models.py [--out models/build] [--arch resnet18,...|all] [--set demo|all|tiny] [--force]

Writes OUT/<variant>/model.onnx and OUT/<variant>/variant.yaml for each variant of the chosen set.
Variants that share a graph share its bytes (hard link, or a copy where links are impossible);
every variant still has its own model.onnx path. Variants already built are skipped unless --force.

Sets
  demo  (default) four ResNet-18 variants whose latencies differ: fp32 t1_b1, fp32 t2_b8,
        int8static t2_b8, int8dyn t2_b8 (about 3 s and 70 MB on 2 cores).
  all   per architecture 20 variants: {fp32 plain, fp32 optbasic, fp32 optext, int8dyn, int8static}
        x threads {1,2} x max batch {1,8}; --arch defaults to all five (about 100 s, 2.5 GB).
  tiny  the committed test models in models/tiny (--out defaults to models/tiny; --arch is ignored).

Variant names: <arch>_onnxruntime[-int8dyn|-int8static]-cpu[-optbasic|-optext|-noopt]_t<threads>_b<max_batch>
See models/README.md for what each part means and for the variant.yaml keys.
"""

import argparse
import logging
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def require_packages():
    missing = []
    for module in ("numpy", "onnx", "onnxruntime"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        sys.exit(f"error: missing Python package(s): {', '.join(missing)}.\n"
                 f"       Install them with:  pip install onnx onnxruntime   (numpy comes with them)")


# --------------------------------------------------------------------------------------------
# The variant grid
# --------------------------------------------------------------------------------------------

# precision -> (name tag, variant.yaml `quantization`)
PRECISIONS = {
    "fp32": ("", "none"),
    "int8dyn": ("-int8dyn", "int8-dynamic"),
    "int8static": ("-int8static", "int8-static"),
}
# graph form -> (name tag, graph file it uses, variant.yaml `graph_optimization` the server loads it at)
FORMS = {
    "plain": ("", "plain", "all"),            # the builder's graph; the server optimises fully at load
    "optbasic": ("-optbasic", "optbasic", "basic"),      # saved by ORT after basic optimisation
    "optext": ("-optext", "optext", "extended"),         # saved by ORT after extended optimisation
    "noopt": ("-noopt", "plain", "disabled"),  # the builder's graph run without any optimisation
}


class Variant:
    def __init__(self, arch, precision, form, threads, max_batch):
        self.arch, self.precision, self.form = arch, precision, form
        self.threads, self.max_batch = threads, max_batch
        self.name = (f"{arch}_onnxruntime{PRECISIONS[precision][0]}-cpu{FORMS[form][0]}"
                     f"_t{threads}_b{max_batch}")
        # Variants with the same graph key have byte-identical model.onnx files.
        self.graph = (arch, precision, FORMS[form][1])
        self.level = FORMS[form][2]
        self.quantization = PRECISIONS[precision][1]


def demo_set(arch):
    return [Variant(arch, "fp32", "plain", 1, 1), Variant(arch, "fp32", "plain", 2, 8),
            Variant(arch, "int8static", "plain", 2, 8), Variant(arch, "int8dyn", "plain", 2, 8)]


def full_set(arch):
    out = []
    for precision, forms in (("fp32", ("plain", "optbasic", "optext")),
                             ("int8dyn", ("plain",)), ("int8static", ("plain",))):
        for form in forms:
            out += [Variant(arch, precision, form, t, b) for t in (1, 2) for b in (1, 8)]
    return out


def tiny_set():
    return [Variant("tinycnn", "fp32", "plain", 1, 8), Variant("tinycnn", "fp32", "plain", 1, 1),
            Variant("tinycnn", "fp32", "noopt", 1, 8)]


# --------------------------------------------------------------------------------------------
# Facts per architecture that go into variant.yaml
# --------------------------------------------------------------------------------------------

def arch_facts(arch):
    import onnx_archs
    if arch in onnx_archs.ARCHITECTURES:
        spec = onnx_archs.ARCHITECTURES[arch]
        return dict(task="classification", dataset="imagenet", classes=1000, input=spec["input"],
                    accuracy=("accuracy", spec["accuracy"]), accuracy_source=spec["accuracy_source"])
    spec = onnx_archs.TINY_ARCHITECTURES[arch]
    return dict(task="classification", dataset="cifar10", classes=10, input=spec["input"],
                accuracy=("accuracy_declared", 10.0),
                accuracy_source="placeholder: chance level for 10 classes; tinycnn is a random-weight "
                                "test model with no published or measured accuracy")


def variant_fields(v, model_bytes):
    facts = arch_facts(v.arch)
    c, h, w = facts["input"]
    accuracy_key, accuracy = facts["accuracy"]
    return {
        "name": v.name,
        "architecture": v.arch,
        "task": facts["task"],
        "dataset": facts["dataset"],
        "framework": "onnxruntime",
        "hardware": "cpu",
        "cpus": v.threads,
        "max_batch": v.max_batch,
        "graph_optimization": v.level,
        "quantization": v.quantization,
        "input_name": "input",
        "input_shape": [-1, c, h, w],
        "input_size": h,
        "output_name": "output",
        "output_shape": [-1, facts["classes"]],
        "output_kind": "softmax",
        accuracy_key: accuracy,
        "accuracy_source": facts["accuracy_source"],
        "weights": "random",
        "model_bytes": model_bytes,
    }


def yaml_comment(v):
    head = "Written by models/build_models.py (deterministic: rerun it rather than edit this file).\n"
    if v.arch == "tinycnn":
        return head + ("Random weights; tinycnn is a test model: accuracy_declared is a placeholder (chance level),\n"
                       "not a measurement.")
    return head + ("Random weights: `accuracy` is the published top-1 of the trained architecture, user-declared\n"
                   "as in INFaaS; these weights do not achieve it.")


# --------------------------------------------------------------------------------------------
# Graph builders: each writes one distinct graph file
# --------------------------------------------------------------------------------------------

def _versions():
    import numpy, onnx, onnxruntime
    return f"numpy {numpy.__version__}, onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}"


def _add_metadata(path, extra):
    import onnx
    model = onnx.load(str(path))
    props = {p.key: p.value for p in model.metadata_props}
    props.pop("onnx.infer", None)  # left by the quantiser's shape inference
    props.update(extra)
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, props)
    onnx.save(model, str(path))


def build_plain(arch, dest):
    import onnx
    import onnx_archs
    net = onnx_archs.build(arch)
    spec = onnx_archs.ARCHITECTURES.get(arch)
    if spec:  # the graph must have the published architecture's parameters and MACs
        expected = spec["torchvision_params"]
        if net.params + net.folded_bn_channels != expected:
            raise SystemExit(f"error: {arch}: {net.params} params + {net.folded_bn_channels} folded BN "
                             f"channels != torchvision's {expected}: the builder is wrong")
        if abs(net.macs / 1e9 - spec["torchvision_gmacs"]) > 0.005:
            raise SystemExit(f"error: {arch}: {net.macs / 1e9:.3f} GMACs != torchvision's "
                             f"{spec['torchvision_gmacs']}: the builder is wrong")
    metadata = {
        "weights": "random",
        "seed": str(net.seed),
        "architecture": arch,
        "generator": "infaas-swift models/build_models.py",
        "initialisation": "He-normal (numpy default_rng(seed)); BatchNorm folded into conv; "
                          "residual branches scaled 1/sqrt(#blocks)",
        "output": f"softmax over {net.output.c} classes (random weights: not meaningful predictions)",
        "params": str(net.params),
        "gmacs": f"{net.macs / 1e9:.3f}",
        "graph": "plain (unoptimised builder graph)",
        "built_with": _versions(),
    }
    if spec:
        metadata["published_top1_of_trained_architecture"] = f"{spec['accuracy']} ({spec['accuracy_source']}); " \
                                                             "these random weights do not achieve it"
    onnx.save(net.to_model("input", spec["input"] if spec else onnx_archs.TINY_ARCHITECTURES[arch]["input"],
                           metadata), str(dest))


def build_preoptimised(src, dest, level):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort_levels()[level]
    so.optimized_model_filepath = str(dest)
    so.intra_op_num_threads = 1
    ort.InferenceSession(str(src), so, providers=["CPUExecutionProvider"])
    _add_metadata(dest, {"graph": f"pre-optimised by onnxruntime at level '{level}' (CPU EP); "
                                  f"load it at that level", "built_with": _versions()})


def build_int8_dynamic(src, dest):
    from onnxruntime.quantization import QuantType, quantize_dynamic
    # QUInt8 weights: ORT 1.32 runs ConvInteger with QInt8 weights too, but about 2x slower than
    # QUInt8 on x86 (measured; see README). Conv and MatMul are quantised; activations at run time.
    quantize_dynamic(str(src), str(dest), weight_type=QuantType.QUInt8)
    _add_metadata(dest, {"graph": "int8 dynamic quantisation (onnxruntime.quantization.quantize_dynamic, "
                                  "weights QUInt8 per tensor; Conv->ConvInteger, MatMul->MatMulInteger)",
                         "built_with": _versions()})


def build_int8_static(src, dest, arch, seed):
    import numpy as np
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    c, h, w = arch_facts(arch)["input"]

    class RandomImages(CalibrationDataReader):
        """8 seeded N(0,1) images: calibration for latency, not for accuracy (the weights are random)."""
        def __init__(self):
            self.rng, self.left = np.random.default_rng(seed), 8

        def get_next(self):
            if self.left == 0:
                return None
            self.left -= 1
            return {"input": self.rng.standard_normal((1, c, h, w), dtype=np.float32)}

    # QOperator (QLinearConv, QLinearMatMul...) with uint8 activations and int8 weights: the fast
    # u8s8 kernels of the ORT CPU EP. Per-tensor MinMax calibration. The final Softmax stays float:
    # a uint8 softmax rounds most of 1000 near-uniform probabilities to 0 (rows summed to 0.56).
    quantize_static(str(src), str(dest), RandomImages(), quant_format=QuantFormat.QOperator,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=False,
                    nodes_to_exclude=["softmax"])
    _add_metadata(dest, {"graph": "int8 static quantisation (onnxruntime.quantization.quantize_static, "
                                  "QOperator, activations QUInt8, weights QInt8 per tensor, MinMax "
                                  f"calibration on 8 random N(0,1) images, seed {seed}; Softmax kept float)",
                         "built_with": _versions()})


def ort_levels():
    import onnxruntime as ort
    L = ort.GraphOptimizationLevel
    return {"disabled": L.ORT_DISABLE_ALL, "basic": L.ORT_ENABLE_BASIC,
            "extended": L.ORT_ENABLE_EXTENDED, "all": L.ORT_ENABLE_ALL}


def validate(path, v):
    """onnx.checker plus one ORT run at batch 1 and 2 at the level the server will use."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    onnx.checker.check_model(str(path))
    facts = arch_facts(v.arch)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort_levels()[v.level]
    so.intra_op_num_threads = 2
    session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    if inp.name != "input" or isinstance(inp.shape[0], int) or out.name != "output":
        raise SystemExit(f"error: {path}: expected input 'input' [N,...] and output 'output', "
                         f"got {inp.name} {inp.shape} -> {out.name} {out.shape}")
    rng = np.random.default_rng(0)
    for batch in (1, 2):
        x = rng.standard_normal((batch, *facts["input"]), dtype=np.float32)
        y = session.run(["output"], {"input": x})[0]
        if y.shape != (batch, facts["classes"]) or not np.isfinite(y).all() \
                or not np.allclose(y.sum(axis=1), 1.0, atol=1e-3):
            raise SystemExit(f"error: {path}: batch {batch} gave shape {y.shape}, finite={np.isfinite(y).all()}, "
                             f"row sums {y.sum(axis=1)}; expected ({batch}, {facts['classes']}) softmax rows")


# --------------------------------------------------------------------------------------------
# The repository writer
# --------------------------------------------------------------------------------------------

class Builder:
    def __init__(self, out, force, all_known):
        self.out, self.force = out, force
        self.all_known = all_known    # every variant name that may share a graph, for reuse
        self.graphs = {}              # graph key -> file built or found in this run
        self.validated = set()        # (graph key, level) validated in this run
        self.scratch = out / ".building"

    def complete(self, name):
        """A variant counts as built when its variant.yaml exists and names its model's size."""
        import variant_yaml
        model, meta = self.out / name / "model.onnx", self.out / name / "variant.yaml"
        if not (model.is_file() and meta.is_file()):
            return False
        try:
            return variant_yaml.read(meta).get("model_bytes") == model.stat().st_size
        except (OSError, ValueError):
            return False

    def graph_file(self, key):
        if key in self.graphs:
            return self.graphs[key], "linked"
        if not self.force:
            for other in self.all_known:
                if other.graph == key and self.complete(other.name):
                    self.graphs[key] = self.out / other.name / "model.onnx"
                    return self.graphs[key], "linked"
        arch, precision, form = key
        self.scratch.mkdir(parents=True, exist_ok=True)
        dest = self.scratch / f"{arch}.{precision}.{form}.onnx"
        if precision == "fp32" and form == "plain":
            build_plain(arch, dest)
        else:
            src, _ = self.graph_file((arch, "fp32", "plain"))
            if precision == "int8dyn":
                build_int8_dynamic(src, dest)
            elif precision == "int8static":
                import onnx_archs
                spec = onnx_archs.ARCHITECTURES.get(arch) or onnx_archs.TINY_ARCHITECTURES[arch]
                build_int8_static(src, dest, arch, spec["seed"] + 1)
            else:
                build_preoptimised(src, dest, FORMS[form][2])
        self.graphs[key] = dest
        return dest, "built"

    def place(self, v):
        import variant_yaml
        start = time.perf_counter()
        if not self.force and self.complete(v.name):
            size = (self.out / v.name / "model.onnx").stat().st_size
            return size, time.perf_counter() - start, "skipped (already built; --force rebuilds)"
        src, how = self.graph_file(v.graph)
        if (v.graph, v.level) not in self.validated:
            validate(src, v)
            self.validated.add((v.graph, v.level))
            how += ", validated"
        directory = self.out / v.name
        directory.mkdir(parents=True, exist_ok=True)
        model = directory / "model.onnx"
        if not (model.exists() and os.path.samefile(src, model)):
            tmp = directory / "model.onnx.tmp"
            if tmp.exists():
                tmp.unlink()
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copyfile(src, tmp)
            os.replace(tmp, model)
        size = model.stat().st_size
        text = variant_yaml.dumps(variant_fields(v, size), yaml_comment(v))
        (directory / "variant.yaml.tmp").write_text(text, encoding="utf-8")
        os.replace(directory / "variant.yaml.tmp", directory / "variant.yaml")
        return size, time.perf_counter() - start, how

    def cleanup(self):
        # Files in the scratch folder are hard-linked into variants (or copied); the names can go.
        if self.scratch.exists():
            shutil.rmtree(self.scratch)


def human(size):
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.1f} kB"


def parse_args(argv):
    import onnx_archs
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="example: python3 models/build_models.py --set all --arch resnet18,mobilenet_v2",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help="model repository folder (default models/build; models/tiny for --set tiny)")
    p.add_argument("--arch", default=None,
                   help=f"comma-separated architectures or 'all' ({', '.join(onnx_archs.ARCHITECTURES)}); "
                        "default resnet18 for --set demo, all for --set all")
    p.add_argument("--set", dest="variant_set", choices=("demo", "all", "tiny"), default="demo",
                   help="which variants to build (default demo)")
    p.add_argument("--force", action="store_true", help="rebuild variants that are already built")
    args = p.parse_args(argv)
    known = list(onnx_archs.ARCHITECTURES)
    if args.variant_set == "tiny":
        args.archs = ["tinycnn"]
    else:
        chosen = args.arch or ("resnet18" if args.variant_set == "demo" else "all")
        args.archs = known if chosen == "all" else [a.strip() for a in chosen.split(",") if a.strip()]
        unknown = [a for a in args.archs if a not in known]
        if unknown:
            p.error(f"unknown architecture {', '.join(repr(a) for a in unknown)}; known: {', '.join(known)} or all")
    if args.out is None:
        args.out = HERE / ("tiny" if args.variant_set == "tiny" else "build")
    return args


def main(argv=None):
    require_packages()
    sys.path.insert(0, str(HERE))
    args = parse_args(argv)
    if args.variant_set == "tiny":
        variants = tiny_set()
    else:
        variants = [v for a in args.archs for v in (demo_set(a) if args.variant_set == "demo" else full_set(a))]
    known = tiny_set() if args.variant_set == "tiny" else [v for a in args.archs for v in full_set(a)]
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger().setLevel(logging.ERROR)  # the quantiser's "consider pre-processing" advice
    builder = Builder(args.out, args.force, known)
    width = max(len(v.name) for v in variants)
    started = time.perf_counter()
    try:
        for i, v in enumerate(variants, start=1):
            size, seconds, how = builder.place(v)
            print(f"[{i:>3}/{len(variants)}] {v.name:<{width}}  {human(size):>9}  {seconds:6.1f} s  {how}",
                  flush=True)
    finally:
        builder.cleanup()
    stats = [(args.out / v.name / "model.onnx").stat() for v in variants]
    inodes = {(s.st_dev, s.st_ino): s.st_size for s in stats}
    print(f"{len(variants)} variants in {args.out} ({len(inodes)} distinct files, "
          f"{human(sum(inodes.values()))} on disk) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
