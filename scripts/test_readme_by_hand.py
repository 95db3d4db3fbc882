#!/usr/bin/env python3
"""Runs the README's "By hand" block as written, in a fresh copy of the repository, and checks it.

    INFAAS=.build/debug/infaas python3 scripts/test_readme_by_hand.py     (scripts/test runs it)

The copy holds what a clone would (the files git tracks, plus new files not yet committed that
git does not ignore), in a scratch folder; its bin/ links the binary under test under the
command names scripts/setup links. The block runs there with `bash -euo pipefail`, so a failing
command fails the test. Then: the query printed its variant, the original CLI printed the raw
output, the offline job wrote its outputs, and nothing new appeared in the copy's root (the
walk-through must leave no configs/ or profiles.h5 behind).

Needs the Python packages models/build_models.py needs (onnx, onnxruntime, numpy) and ONNX Runtime
for the worker; skips (exit 0, with a note) when onnxruntime is missing.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["infaas", "infaas_modarch", "infaas_modinfo", "infaas_modelregistration",
         "infaas_online_query", "infaas_offline_query"]
MARKER = "<!-- by-hand: the block below is run by scripts/test_readme_by_hand.py -->"


def readme_block():
    text = (ROOT / "README.md").read_text()
    start = text.index(MARKER)
    match = re.search(r"```sh\n(.*?)\n```", text[start:], re.S)
    if not match:
        sys.exit("test_readme_by_hand: no ```sh block after the by-hand marker in README.md")
    return match.group(1)


def fresh_copy(dest):
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    for name in filter(None, files):
        src = ROOT / os.fsdecode(name)
        if not src.is_file():  # deleted but not yet committed
            continue
        target = dest / os.fsdecode(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def main():
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        print("test_readme_by_hand: skipped (no onnxruntime Python package; scripts/setup installs it)")
        return 0
    binary = Path(os.environ.get("INFAAS", ROOT / ".build/debug/infaas")).resolve()
    if not binary.is_file():
        sys.exit(f"test_readme_by_hand: no binary at {binary} (build first, or set INFAAS)")
    block = readme_block()
    scratch = Path(tempfile.mkdtemp(prefix="infaas-by-hand-"))
    clone = scratch / "infaas-swift"
    tmp = scratch / "tmp"
    tmp.mkdir()
    fresh_copy(clone)
    (clone / "bin").mkdir(exist_ok=True)
    for name in NAMES:
        (clone / "bin" / name).symlink_to(binary)
    before = sorted(p.name for p in clone.iterdir())
    env = {k: v for k, v in os.environ.items() if k not in ("INFAAS_HOME", "INFAAS_MASTER", "INFAAS_TOKEN")}
    env["PATH"] = f"{clone / 'bin'}:{env.get('PATH', '')}"
    env["TMPDIR"] = str(tmp)
    started = time.monotonic()
    failures = []
    try:
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=clone, env=env,
                             capture_output=True, text=True, timeout=900)
        out = run.stdout + run.stderr
        if run.returncode != 0:
            failures.append(f"the block exited {run.returncode}")
        for expected in ["variant: resnet18_onnxruntime-cpu_t1_b1", "Inputs ready for INFaaS",
                         "1 reply, reply[0] size: 4000", "Prediction 0: ", "Offline query job submission SUCCEEDED",
                         "mug_224.png.out", "_SUCCESS-"]:
            if expected not in out:
                failures.append(f"the output lacks {expected!r}")
        after = sorted(p.name for p in clone.iterdir())
        new = sorted(set(after) - set(before))
        if new:
            failures.append(f"the walk-through left {new} in the repository root")
    except subprocess.TimeoutExpired as e:
        out = "".join(x.decode(errors="replace") if isinstance(x, bytes) else x for x in (e.stdout or "", e.stderr or ""))
        failures.append("the block did not finish within 900 s")
    finally:
        # The block ends with `infaas down`; if it stopped early, stop its cluster here.
        for home in tmp.glob("*/home"):
            subprocess.run([str(binary), "down", "--home", str(home)], capture_output=True, timeout=60)
    took = time.monotonic() - started
    if failures:
        print(out)
        print("test_readme_by_hand: FAILED:\n  - " + "\n  - ".join(failures))
        print(f"(scratch folder kept: {scratch})")
        return 1
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"test_readme_by_hand: the README's by-hand block ran as written in {took:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
