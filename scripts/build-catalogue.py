#!/usr/bin/env python3
"""Build the synthetic-but-grounded variant catalogue (profiles/catalogue.csv).

Reads the bundled profile table (profiles/model_variant_profiles.csv) and writes one row per
(variant, batch) for the INFaaS image-classification architectures on three hardware classes
(CPU m5.2xlarge, GPU p3.2xlarge, Inferentia inf1.2xlarge). Every derivation rule (C1.., G1..,
I1, L1, M1, A1, P1) is documented in profiles/CATALOGUE.md; the rule ids appear in the
`source` column of each row.

Standard library only. Deterministic: the same input gives a byte-identical output.

Usage: python3 scripts/build-catalogue.py [--input CSV] [--output CSV]
"""

import argparse
import csv
import io
import math
import sys

HEADER = [
    "architecture", "variant", "framework", "hardware", "batch", "p50_ms", "p90_ms", "p99_ms",
    "mean_ms", "load_ms", "memory_mb", "accuracy_top1", "accuracy_top5", "params", "gflops",
    "size_mb", "input_shape", "kind", "source", "notes", "task", "dataset", "max_batch", "cpus",
]

HW_CPU = "AWS m5.2xlarge (8 vCPU)"
HW_GPU = "AWS p3.2xlarge (NVIDIA V100)"
HW_INF = "AWS inf1.2xlarge (Inferentia, 4 NeuronCores)"

CPU_COUNTS = (1, 4)              # the original's CPU variants differ by core count (1 vs 4)
CPU_BATCHES = (1, 4, 8)
CPU_MAX_BATCH = 8
GPU_MAX_BATCHES = (1, 4, 8, 16, 32)
GPU_BATCHES = (1, 4, 8, 16, 32)
INF_CORES = 1

# --- The original INFaaS ResNet50 records (src/worker/query_test.cc; infaas-original-data.md §3)
ORIG_TRT_SLOPE = 1.1902          # ms per item, resnet_v1_50 TensorRT (V100), max batch 8
ORIG_TRT_INTERCEPT = 2.7069      # ms
ORIG_TRT_B1 = 3.686              # ms, batch-1 latency
ORIG_TRT_LOAD = 1146.433452      # ms
ORIG_TRT_PEAK_BYTES = 92275040
ORIG_INF_B1 = 22.0               # ms, resnet50_inferentia_1_1 batch-1 latency
ORIG_INF_LOAD = 3554.77          # ms
ORIG_INF_PEAK_BYTES = 42079527
ORIG_PT_CPU_PEAK_BYTES = 66460000  # resnet50_pytorch_4 (the TF-CPU record, 3,084,000 B, is not a footprint)

# --- Stated assumptions (not data): CPU thread scaling (rule C3)
MEASURED_THREADS = 2             # light_* rows: intra_op_threads=2 on a 2-vCPU dev VM
AMDAHL_SERIAL = 0.10             # serial fraction of a batch's work
DEV_VM_TO_M5 = 1.0               # per-thread speed of the dev VM's EPYC vs m5.2xlarge Xeon

# Measured batch curves used for the generic CPU batch factor (rule C4). ppocr_mobilenetv3_cls
# is left out: a 48x192 text model whose sub-millisecond timings are dominated by noise.
GENERIC_CURVE_ARCHS = ("densenet121", "squeezenet1.0", "open_nsfw_resnet50_thin")

REFERENCE_ARCH = "resnet50"      # anchor of every relative-cost rule

# The catalogue's architectures: the 21 of INFaaS (reference §7) + efficientnetb0.
#   keras:  Keras Applications class (published accuracy, params, size, batch-32 CPU/A100 times)
#   tv:     torchvision architecture name (GFLOPs; accuracy etc. when Keras has none)
#   light:  table architecture with measured ONNX Runtime CPU rows (dev VM)
#   cpu_ref: measured family member whose CPU latency is scaled by GFLOPs (rule C2)
#   est_ref: family reference for estimating a missing GFLOPs or Keras A100 value (rules R2, G2)
#   side:   native input side of the published weights
ARCHS = [
    # name,              keras class,           tv name,             light,         cpu_ref,       est_ref,        side
    ("alexnet",           None,                  "alexnet",           "alexnet",     "alexnet",     "vgg16",        224),
    ("densenet121",       "DenseNet121",         "densenet121",       "densenet121", "densenet121", None,           224),
    ("densenet169",       "DenseNet169",         "densenet169",       None,          "densenet121", None,           224),
    ("densenet201",       "DenseNet201",         "densenet201",       None,          "densenet121", None,           224),
    ("efficientnetb0",    "EfficientNetB0",      "efficientnet_b0",   None,          "resnet50",    None,           224),
    ("inceptionresnetv2", "InceptionResNetV2",   None,                None,          "resnet50",    "inceptionv3",  299),
    ("inceptionv3",       "InceptionV3",         "inception_v3",      None,          "resnet50",    None,           299),
    ("mobilenet",         "MobileNet",           None,                None,          "resnet50",    "mobilenetv2",  224),
    ("mobilenetv2",       "MobileNetV2",         "mobilenet_v2",      None,          "resnet50",    None,           224),
    ("nasnetlarge",       "NASNetLarge",         None,                None,          "resnet50",    "inceptionv3",  331),
    ("nasnetmobile",      "NASNetMobile",        None,                None,          "resnet50",    "mobilenetv2",  224),
    ("resnet101",         "ResNet101",           "resnet101",         None,          "resnet50",    None,           224),
    ("resnet101v2",       "ResNet101V2",         None,                None,          "resnet50",    "resnet101",    224),
    ("resnet152",         "ResNet152",           "resnet152",         None,          "resnet50",    None,           224),
    ("resnet152v2",       "ResNet152V2",         None,                None,          "resnet50",    "resnet152",    224),
    ("resnet50",          "ResNet50",            "resnet50",          "resnet50",    "resnet50",    None,           224),
    ("resnet50v2",        "ResNet50V2",          None,                None,          "resnet50",    "resnet50",     224),
    ("resnext101_32x8d",  None,                  "resnext101_32x8d",  None,          "resnet50",    "resnet101",    224),
    ("resnext50_32x4d",   None,                  "resnext50_32x4d",   None,          "resnet50",    "resnet50",     224),
    ("vgg16",             "VGG16",               "vgg16",             None,          "vgg19",       None,           224),
    ("vgg19",             "VGG19",               "vgg19",             "vgg19",       "vgg19",       None,           224),
    ("xception",          "Xception",            None,                None,          "resnet50",    "inceptionv3",  299),
]


def fail(message):
    sys.stderr.write("build-catalogue: error: " + message + "\n")
    sys.exit(1)


def num(text):
    text = (text or "").strip()
    return float(text) if text else None


def fmt(value):
    """Fixed formatting for derived numbers: 4 decimals, no negative zero."""
    if value is None:
        return ""
    if not math.isfinite(value):
        fail("non-finite value %r" % value)
    text = "%.4f" % value
    return "0.0000" if text == "-0.0000" else text


def median(values):
    values = sorted(values)
    if not values:
        fail("median of nothing")
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2.0


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


class Table:
    """The input table, indexed the ways the rules need."""

    def __init__(self, path):
        with open(path, newline="", encoding="utf-8") as handle:
            self.rows = list(csv.DictReader(handle))
        self.keras = {}      # keras class -> {"cpu": row, "gpu": row, "meta": row}
        self.tv = {}         # torchvision arch -> IMAGENET1K_V1 row
        self.measured = {}   # architecture -> {batch: row}  (kind == measured)
        for row in self.rows:
            variant = row["variant"]
            if variant.startswith("keras.applications."):
                cls = variant[len("keras.applications."):]
                entry = self.keras.setdefault(cls, {})
                hw = row["hardware"]
                if row["batch"].strip() == "32" and "A100" in hw:
                    entry["gpu"] = row
                elif row["batch"].strip() == "32" and "EPYC" in hw:
                    entry["cpu"] = row
                entry.setdefault("meta", row)
            elif variant.startswith("torchvision ") and variant.endswith("_Weights.IMAGENET1K_V1"):
                if row["architecture"] in self.tv:
                    fail("two torchvision IMAGENET1K_V1 rows for %s" % row["architecture"])
                self.tv[row["architecture"]] = row
            if row["kind"] == "measured" and row["batch"].strip():
                batches = self.measured.setdefault(row["architecture"], {})
                b = int(row["batch"])
                if b in batches:
                    fail("two measured rows for %s at batch %d" % (row["architecture"], b))
                batches[b] = row


def build(table):
    names = [a[0] for a in ARCHS]
    spec = {a[0]: dict(zip(("name", "keras", "tv", "light", "cpu_ref", "est_ref", "side"), a)) for a in ARCHS}

    # ---------------------------------------------------------------- published inputs
    pub = {}
    for name in names:
        s = spec[name]
        k = table.keras.get(s["keras"]) if s["keras"] else None
        t = table.tv.get(s["tv"]) if s["tv"] else None
        if s["keras"] and (not k or "cpu" not in k or "gpu" not in k):
            fail("Keras batch-32 CPU/A100 rows missing for %s" % name)
        if s["tv"] and not t:
            fail("torchvision IMAGENET1K_V1 row missing for %s (%s)" % (name, s["tv"]))
        meta = k["cpu"] if k else t             # rule A1: Keras when it has the architecture
        pub[name] = {
            "acc1": meta["accuracy_top1"].strip(), "acc5": meta["accuracy_top5"].strip(),
            "params": meta["params"].strip(), "size_text": meta["size_mb"].strip(),
            "size": num(meta["size_mb"]),
            "acc_source": ("Keras Applications %s" % s["keras"]) if k else ("torchvision %s IMAGENET1K_V1" % s["tv"]),
            "gflops_text": t["gflops"].strip() if t else "",
            "gflops": num(t["gflops"]) if t else None,
            "keras_cpu": num(k["cpu"]["mean_ms"]) if k else None,
            "keras_gpu": num(k["gpu"]["mean_ms"]) if k else None,
        }
        if pub[name]["size"] is None or not pub[name]["acc1"]:
            fail("size or accuracy missing for %s" % name)

    ref = pub[REFERENCE_ARCH]

    # ---------------------------------------------------------------- R: compute proxy (GFLOPs)
    # R1: torchvision GFLOPs. R2: family reference's GFLOPs x geometric mean of the Keras CPU
    # and A100 batch-32 time ratios (architecture / reference).
    gf, gf_rule = {}, {}
    for name in names:
        p = pub[name]
        if p["gflops"] is not None:
            gf[name], gf_rule[name] = p["gflops"], "R1"
    for name in names:
        if name in gf:
            continue
        r = spec[name]["est_ref"]
        p, q = pub[name], pub[r]
        ratio = math.sqrt((p["keras_cpu"] / q["keras_cpu"]) * (p["keras_gpu"] / q["keras_gpu"]))
        gf[name], gf_rule[name] = gf[r] * ratio, "R2 via %s" % r

    # ---------------------------------------------------------------- P1: p99/p50 ratio
    ratios = []
    for batches in table.measured.values():
        for row in batches.values():
            p50, p99 = num(row["p50_ms"]), num(row["p99_ms"])
            if p50 and p99:
                ratios.append(p99 / p50)
    p99_ratio = median(ratios)

    # ---------------------------------------------------------------- C: CPU
    def curve_of(arch):
        rows = table.measured.get(arch, {})
        if not all(b in rows for b in CPU_BATCHES):
            return None
        base = num(rows[1]["p50_ms"])
        return {b: num(rows[b]["p50_ms"]) / base for b in CPU_BATCHES}

    generic = {}
    curves = [curve_of(a) for a in GENERIC_CURVE_ARCHS]
    if any(c is None for c in curves):
        fail("a generic batch curve architecture lacks batches %s" % (CPU_BATCHES,))
    for b in CPU_BATCHES:
        generic[b] = geomean([c[b] for c in curves])

    def threads_factor(n):
        def t(k):
            return AMDAHL_SERIAL + (1.0 - AMDAHL_SERIAL) / k
        return t(n) / t(MEASURED_THREADS) * DEV_VM_TO_M5

    cpu_b1_2t, cpu_b1_rule, cpu_curve, cpu_curve_rule = {}, {}, {}, {}
    ms_per_gflop = None
    for name in names:
        r = spec[name]["cpu_ref"]
        light = table.measured.get(r, {}) if r else {}
        if 1 not in light:
            fail("CPU reference %s of %s has no measured batch-1 row" % (r, name))
        base = num(light[1]["p50_ms"])
        if r == name:
            cpu_b1_2t[name], cpu_b1_rule[name] = base, "C1 measured light_%s" % name
        else:
            cpu_b1_2t[name] = base * gf[name] / gf[r]
            cpu_b1_rule[name] = "C2 light_%s x GFLOPs %.4g/%.4g" % (r, gf[name], gf[r])
        if r == REFERENCE_ARCH:
            ms_per_gflop = base / gf[r]
        own = curve_of(r)
        if own is not None:
            cpu_curve[name], cpu_curve_rule[name] = own, "C4 curve of %s" % r
        else:
            cpu_curve[name], cpu_curve_rule[name] = dict(generic), "C4 generic curve"

    # ---------------------------------------------------------------- G: GPU relative cost
    # G1: c = sqrt(rF * rK), rF = GFLOPs ratio, rK = Keras A100 batch-32 ratio, both vs resnet50.
    # G2: rK missing -> rK(est_ref) * rF(arch)/rF(est_ref).
    rF = {n: gf[n] / gf[REFERENCE_ARCH] for n in names}
    rK, rK_rule = {}, {}
    for name in names:
        if pub[name]["keras_gpu"] is not None:
            rK[name], rK_rule[name] = pub[name]["keras_gpu"] / ref["keras_gpu"], "Keras A100"
    for name in names:
        if name not in rK:
            r = spec[name]["est_ref"]
            rK[name], rK_rule[name] = rK[r] * rF[name] / rF[r], "G2 via %s" % r
    gpu_c = {n: math.sqrt(rF[n] * rK[n]) for n in names}

    def gpu_lat(name, b):
        # G3: the original's ResNet50 TensorRT profile, scaled by c (measured b1, fitted line b>1)
        base = ORIG_TRT_B1 if b == 1 else ORIG_TRT_SLOPE * b + ORIG_TRT_INTERCEPT
        return gpu_c[name] * base

    # ---------------------------------------------------------------- L, M
    ref_size = ref["size"]
    mem_k = {
        "cpu": ORIG_PT_CPU_PEAK_BYTES / 1e6 / ref_size,
        "gpu": ORIG_TRT_PEAK_BYTES / 1e6 / ref_size,
        "inf": ORIG_INF_PEAK_BYTES / 1e6 / ref_size,
    }

    def cpu_load(name):
        # L1: the CPU reference's measured session-creation time (C1/C2 reference), x size ratio
        r = spec[name]["cpu_ref"]
        measured = num(table.measured[r][1]["load_ms"])
        if measured is None:
            fail("CPU reference %s has no measured load_ms" % r)
        if r == name:
            return measured, "L1 measured"
        return measured * pub[name]["size"] / pub[r]["size"], "L1 light_%s load x size %s/%s MB" % (
            r, pub[name]["size_text"], pub[r]["size_text"])

    # ---------------------------------------------------------------- rows
    out = []

    def row(name, variant, framework, hw, b, p50, load, load_rule, memory, max_batch, cpus, rule, note):
        p = pub[name]
        side = spec[name]["side"]
        source = ("derived: p50 %s; p99 P1 (x%.4g); load %s; memory M1; accuracy A1 (%s); "
                  "see profiles/CATALOGUE.md" % (rule, p99_ratio, load_rule, p["acc_source"]))
        return {
            "architecture": name, "variant": variant, "framework": framework, "hardware": hw,
            "batch": str(b), "p50_ms": fmt(p50), "p90_ms": "", "p99_ms": fmt(p50 * p99_ratio),
            "mean_ms": "", "load_ms": fmt(load), "memory_mb": fmt(memory),
            "accuracy_top1": p["acc1"], "accuracy_top5": p["acc5"], "params": p["params"],
            "gflops": p["gflops_text"], "size_mb": p["size_text"],
            "input_shape": "%dx3x%dx%d" % (b, side, side), "kind": "derived", "source": source,
            "notes": note, "task": "classification", "dataset": "imagenet",
            "max_batch": str(max_batch), "cpus": "" if cpus is None else str(cpus),
        }

    for name in names:
        size = pub[name]["size"]
        load, load_rule = cpu_load(name)
        for n in CPU_COUNTS:
            variant = "%s_onnxruntime-cpu_%d" % (name, n)
            for b in CPU_BATCHES:
                p50 = cpu_b1_2t[name] * threads_factor(n) * cpu_curve[name][b]
                rule = "%s; C3 threads %d->%d (x%.4g); %s" % (
                    cpu_b1_rule[name], MEASURED_THREADS, n, threads_factor(n), cpu_curve_rule[name])
                note = "catalogue variant (simulation only): ONNX Runtime CPU, %d cpu(s), max batch %d" % (n, CPU_MAX_BATCH)
                out.append(row(name, variant, "onnxruntime-cpu", HW_CPU, b, p50, load, load_rule,
                               size * mem_k["cpu"], CPU_MAX_BATCH, n, rule, note))
        for mb in GPU_MAX_BATCHES:
            variant = "%s_tensorrt_b%d" % (name, mb)
            for b in GPU_BATCHES:
                if b > mb:
                    continue
                rule = "G3 original ResNet50 TensorRT profile x c=%.4g (G1 rF=%.4g %s, rK=%.4g %s)" % (
                    gpu_c[name], rF[name], gf_rule[name], rK[name], rK_rule[name])
                note = "catalogue variant (simulation only): TensorRT engine, max batch %d" % mb
                out.append(row(name, variant, "tensorrt", HW_GPU, b, gpu_lat(name, b),
                               ORIG_TRT_LOAD * size / ref_size, "L2", size * mem_k["gpu"], mb, None, rule, note))
        variant = "%s_inferentia_1_%d" % (name, INF_CORES)
        rule = "I1 GPU batch-1 x %.4g/%.4g" % (ORIG_INF_B1, ORIG_TRT_B1)
        note = "catalogue variant (simulation only): Neuron, batch 1, %d NeuronCore" % INF_CORES
        out.append(row(name, variant, "inferentia", HW_INF, 1, gpu_lat(name, 1) * ORIG_INF_B1 / ORIG_TRT_B1,
                       ORIG_INF_LOAD * size / ref_size, "L3", size * mem_k["inf"], 1, None, rule, note))

    out.sort(key=lambda r: (r["architecture"], r["variant"], int(r["batch"])))
    constants = {
        "p99_ratio": p99_ratio, "n_ratios": len(ratios), "generic_curve": generic,
        "threads": {n: threads_factor(n) for n in CPU_COUNTS},
        "mem_k": mem_k, "ms_per_gflop": ms_per_gflop, "gf": gf, "gf_rule": gf_rule,
        "gpu_c": gpu_c, "rF": rF, "rK": rK, "rK_rule": rK_rule,
    }
    return out, constants


HW_CLASS = {HW_CPU: "cpu", HW_GPU: "gpu", HW_INF: "inf"}


def check(rows):
    """Sanity properties; any violation is fatal."""
    seen = set()
    by_variant = {}
    archs = {}
    for r in rows:
        key = (r["variant"], int(r["batch"]))
        if key in seen:
            fail("duplicate (variant, batch) %r" % (key,))
        seen.add(key)
        p50, p99 = float(r["p50_ms"]), float(r["p99_ms"])
        for column in ("p50_ms", "p99_ms", "load_ms", "memory_mb"):
            v = float(r[column])
            if not (math.isfinite(v) and v > 0):
                fail("%s %s not positive and finite for %s batch %s" % (column, r[column], r["variant"], r["batch"]))
        if p99 < p50:
            fail("p99 < p50 for %s batch %s" % (r["variant"], r["batch"]))
        acc = float(r["accuracy_top1"])
        if not 0 < acc < 1:
            fail("accuracy_top1 %s outside (0,1) for %s" % (r["accuracy_top1"], r["variant"]))
        if int(r["batch"]) > int(r["max_batch"]):
            fail("batch above max batch for %s" % r["variant"])
        by_variant.setdefault(r["variant"], []).append(r)
        archs.setdefault(r["architecture"], {}).setdefault(HW_CLASS[r["hardware"]], set()).add(r["variant"])
    for variant, vrows in by_variant.items():
        vrows = sorted(vrows, key=lambda r: int(r["batch"]))
        for a, b in zip(vrows, vrows[1:]):
            if float(b["p50_ms"]) < float(a["p50_ms"]):
                fail("p50 decreases with batch for %s (%s -> %s)" % (variant, a["batch"], b["batch"]))
        for column in ("architecture", "framework", "hardware", "load_ms", "memory_mb", "max_batch", "cpus",
                       "accuracy_top1", "kind"):
            if len({r[column] for r in vrows}) != 1:
                fail("%s differs between the rows of %s" % (column, variant))
    if len(archs) < 20:
        fail("only %d architectures (need >= 20)" % len(archs))
    for arch, classes in archs.items():
        for cls in ("cpu", "gpu", "inf"):
            if not classes.get(cls):
                fail("%s has no %s variant" % (arch, cls))
        b1 = lambda cls: [float(r["p50_ms"]) for r in rows
                          if r["architecture"] == arch and HW_CLASS[r["hardware"]] == cls and r["batch"] == "1"]
        if max(b1("gpu")) >= min(b1("cpu")):
            fail("%s: a GPU batch-1 latency is not below every CPU batch-1 latency" % arch)
    return archs, by_variant


def render(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(r)
    return buffer.getvalue()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default="profiles/model_variant_profiles.csv")
    parser.add_argument("--output", default="profiles/catalogue.csv")
    parser.add_argument("--explain", action="store_true", help="print the derived constants as well")
    args = parser.parse_args()

    rows, constants = build(Table(args.input))
    archs, by_variant = check(rows)
    text = render(rows)
    # The rendered text must parse back to the same rows (round trip through the csv module).
    if list(csv.DictReader(io.StringIO(text))) != rows:
        fail("CSV round trip changed the rows")
    with open(args.output, "w", newline="", encoding="utf-8") as handle:
        handle.write(text)

    per_class = {"cpu": 0, "gpu": 0, "inf": 0}
    for classes in archs.values():
        for cls, variants in classes.items():
            per_class[cls] += len(variants)
    print("build-catalogue: %s -> %s" % (args.input, args.output))
    print("  architectures: %d" % len(archs))
    print("  variants: %d (cpu %d, gpu %d, inferentia %d)" % (
        len(by_variant), per_class["cpu"], per_class["gpu"], per_class["inf"]))
    print("  rows: %d (all kind=derived)" % len(rows))
    print("  P1 p99/p50 = %.4f (median of %d measured rows); C3 threads x%s; C4 generic curve %s" % (
        constants["p99_ratio"], constants["n_ratios"],
        ", ".join("%d cpu %.4f" % (n, f) for n, f in sorted(constants["threads"].items())),
        ", ".join("b%d %.4f" % (b, f) for b, f in sorted(constants["generic_curve"].items()))))
    if args.explain:
        print("  C2 resnet50 rate %.4f ms/GFLOP; M1 k %s" % (
            constants["ms_per_gflop"],
            ", ".join("%s %.4f" % kv for kv in sorted(constants["mem_k"].items()))))
        for name in sorted(constants["gf"]):
            print("  %-18s GFLOPs %8.4f (%s)  rF %.4f  rK %.4f (%s)  c %.4f" % (
                name, constants["gf"][name], constants["gf_rule"][name], constants["rF"][name],
                constants["rK"][name], constants["rK_rule"][name], constants["gpu_c"][name]))


if __name__ == "__main__":
    main()
