"""Shared helpers for the plot scripts: load a sweep folder, aggregate over seeds, style figures.

A sweep folder (written by `infaas sweep ... --out OUT`) holds

    OUT/index.csv                  one row per point: id, the swept keys, seed, headline metrics
    OUT/<point-id>/point.json      {"id": ..., "seed": N, "overrides": {"policy": ..., ...}}
    OUT/<point-id>/results.h5      /meta, /summary, /timeseries, /variants[, /queries]
    OUT/<point-id>/summary.json

Nothing here knows the swept key names except `policy` and `seed`: the swept keys are the keys
the point.json files override (in index.csv column order), or, without point.json files, the
index.csv columns that are not known metrics. `policy` comes from /meta when it is not swept.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from dataclasses import dataclass, field

# Fail with a readable message (not a traceback) when the plotting stack is missing.
try:
    import numpy as np
    import h5py
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: E402
except ImportError as error:  # pragma: no cover - exercised only on bare machines
    MISSING = str(error)
    np = h5py = matplotlib = plt = None
else:
    MISSING = None

DPI = 150

# Columns of index.csv that are results, not swept keys.
METRIC_COLUMNS = {
    "queries", "served", "rejected", "slo_violation_pct", "throughput_qps", "p50_ms", "p95_ms",
    "p99_ms", "mean_latency_ms", "mean_accuracy", "total_cost_usd", "simulated_s",
    "cold_starts", "cold_start_wait_ms_mean",
    # the trace's clairvoyant bound and each run's gap to it (experiments with `oracle: true`)
    "oracle_cost_usd", "oracle_slo_violation_pct", "cost_over_oracle", "violation_points_over_oracle",
}
NON_KEY_COLUMNS = METRIC_COLUMNS | {"id", "seed", "status", "error", "wall_s", "dir", "path"}
# Per-application result columns of index.csv: "<application>.<metric>".
APPLICATION_METRICS = ("queries", "slo_violation_pct", "mean_latency_ms", "mean_accuracy")


def is_application_metric(column: str) -> bool:
    """Whether an index.csv column is a per-application result ("web.slo_violation_pct")."""
    head, _, tail = column.rpartition(".")
    return bool(head) and tail in APPLICATION_METRICS and not head.startswith(("policy_config", "applications"))

# Axis labels with units for the metrics the scripts plot.
LABELS = {
    "throughput_qps": "throughput (queries/s)",
    "slo_violation_pct": "SLO violations (% of queries)",
    "total_cost_usd": "total cost (USD)",
    "mean_accuracy": "mean accuracy served (%)",
    "p50_ms": "p50 latency (ms)",
    "p99_ms": "p99 latency (ms)",
    "mean_latency_ms": "mean latency (ms)",
}

HARDWARE_COLORS = {"cpu": "#4C72B0", "gpu": "#DD8452", "inf": "#55A868"}


class SweepError(Exception):
    """A sweep folder that cannot be plotted; the message says which path and how to make it."""


def require_stack() -> None:
    if MISSING:
        sys.exit(f"error: the plot scripts need numpy, h5py and matplotlib ({MISSING}); "
                 "install them with: python3 -m pip install numpy h5py matplotlib")


# ----------------------------------------------------------------------------------- loading

def parse_value(text):
    """index.csv cells come back as int, float, bool or str ('' stays '' = not overridden)."""
    if not isinstance(text, str):
        return text
    s = text.strip()
    if s == "":
        return ""
    low = s.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return s


def _decode(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "item"):
        return value.item()
    return value


@dataclass
class Point:
    """One run of a sweep: its id, folder, seed, swept key values and summary metrics."""

    id: str
    dir: str
    seed: int
    keys: dict = field(default_factory=dict)      # swept key -> value (without seed)
    metrics: dict = field(default_factory=dict)   # /summary attrs (+ index.csv values)
    meta: dict = field(default_factory=dict)      # /meta attrs

    @property
    def h5_path(self) -> str:
        return os.path.join(self.dir, "results.h5")

    @property
    def policy(self) -> str:
        return str(self.keys.get("policy") or self.meta.get("policy") or "?")

    def metric(self, name: str) -> float:
        value = self.metrics.get(name)
        if value is None or value == "":
            return float("nan")
        try:
            return float(value)
        except (TypeError, ValueError):
            return float("nan")

    def timeseries(self) -> dict:
        with h5py.File(self.h5_path, "r") as f:
            if "timeseries" not in f:
                raise SweepError(f"{self.h5_path} has no /timeseries group")
            return {name: np.asarray(f["timeseries"][name][()]) for name in f["timeseries"]}

    def variants(self) -> dict:
        """Variant name -> queries served (only variants that served any)."""
        with h5py.File(self.h5_path, "r") as f:
            if "variants" not in f:
                return {}
            names = [_decode(n) for n in f["variants/name"][()]]
            counts = f["variants/queries"][()]
        return {n: int(c) for n, c in zip(names, counts) if c > 0}


@dataclass
class Sweep:
    out_dir: str
    points: list
    keys: list            # swept key names in index.csv order (without seed)

    @property
    def experiment(self) -> str:
        for p in self.points:
            if p.meta.get("experiment"):
                return str(p.meta["experiment"])
        return os.path.basename(os.path.normpath(self.out_dir))

    def varying_keys(self, exclude=()) -> list:
        """Swept keys that take more than one value, in column order."""
        return [k for k in self.keys if k not in exclude and len(self.values(k)) > 1]

    def values(self, key: str) -> list:
        """Distinct values of a key in first-seen order (sorted when all numeric)."""
        seen = []
        for p in self.points:
            v = p.keys.get(key, "")
            if v not in seen:
                seen.append(v)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in seen):
            seen.sort()
        return seen

    def seeds(self) -> list:
        return sorted({p.seed for p in self.points})


def _missing(path: str, what: str, make: str | None) -> SweepError:
    hint = f"\n  make it with: {make}" if make else ""
    return SweepError(f"{what} not found: {path}{hint}")


def load_sweep(out_dir: str, make_command: str | None = None) -> Sweep:
    """Reads OUT/index.csv (or, without it, every OUT/*/point.json) and each point's results.h5.

    `make_command` is shown in the error when the folder or its files are missing.
    """
    if not os.path.isdir(out_dir):
        raise _missing(out_dir, "sweep folder", make_command)
    index = os.path.join(out_dir, "index.csv")
    rows = []
    columns: list = []
    if os.path.isfile(index):
        with open(index, newline="") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or [])
            rows = [dict(r) for r in reader]
        if "id" not in columns:
            raise SweepError(f"{index} has no 'id' column (columns: {', '.join(columns)})")
    else:
        for name in sorted(os.listdir(out_dir)):
            pj = os.path.join(out_dir, name, "point.json")
            if os.path.isfile(pj):
                rows.append({"id": name})
        if not rows:
            raise _missing(index, "sweep index (index.csv, or point folders with point.json)",
                           make_command)
        print(f"note: {index} is missing; reading the point folders' point.json instead",
              file=sys.stderr)

    keys = [c for c in columns if c not in NON_KEY_COLUMNS and not is_application_metric(c)
            and not c.startswith(("cost_usd_", "worker_hours_", "outcome_"))]
    points = []
    overridden: set = set()   # keys some point.json overrides
    for row in rows:
        pid = row["id"]
        pdir = os.path.join(out_dir, pid)
        values = {k: parse_value(row.get(k, "")) for k in keys}
        seed = parse_value(row.get("seed", ""))
        pj = os.path.join(pdir, "point.json")
        if os.path.isfile(pj):
            with open(pj) as f:
                point = json.load(f)
            overrides = point.get("overrides") or {}
            if isinstance(overrides, list):  # infaas sweep writes [{"key": ..., "value": ...}, ...]
                overrides = {o["key"]: parse_value(str(o["value"])) for o in overrides}
            for k, v in overrides.items():
                if k == "seed":
                    continue
                overridden.add(k)
                if k not in keys:
                    keys.append(k)
                if values.get(k, "") == "":
                    values[k] = v
            if seed == "" and "seed" in point:
                seed = point["seed"]
        metrics = {k: parse_value(row[k]) for k in row if k in METRIC_COLUMNS or is_application_metric(k)}
        meta = {}
        h5 = os.path.join(pdir, "results.h5")
        if os.path.isfile(h5):
            with h5py.File(h5, "r") as f:
                if "summary" in f:
                    metrics.update({k: _decode(v) for k, v in f["summary"].attrs.items()})
                if "meta" in f:
                    meta = {k: _decode(v) for k, v in f["meta"].attrs.items()}
        elif not metrics:
            raise _missing(h5, f"results of point {pid!r}", make_command)
        if seed == "" and "seed" in meta:
            seed = meta["seed"]
        points.append(Point(id=pid, dir=pdir, seed=int(seed) if seed != "" else 0,
                            keys=values, metrics=metrics, meta=meta))
    if overridden:
        # With point.json files, a swept key is one they override: an index.csv column that no
        # point overrides is an extra result (a metric this module does not know), not a key.
        extra = [k for k in keys if k not in overridden and k != "policy"]
        for p in points:
            for k in extra:
                p.metrics.setdefault(k, p.keys.pop(k, ""))
        keys = [k for k in keys if k not in extra]
    for p in points:  # keys first seen in a later point.json
        for k in keys:
            p.keys.setdefault(k, "")
    if "policy" not in keys and any(p.meta.get("policy") for p in points):
        keys.insert(0, "policy")
        for p in points:
            p.keys["policy"] = p.meta.get("policy", "")
    return Sweep(out_dir=out_dir, points=points, keys=keys)


def load_or_exit(out_dir: str, make_command: str | None) -> Sweep:
    require_stack()
    try:
        sweep = load_sweep(out_dir, make_command)
    except SweepError as error:
        sys.exit(f"error: {error}")
    if not sweep.points:
        sys.exit(f"error: {out_dir}/index.csv lists no points")
    return sweep


# ------------------------------------------------------------------------------- statistics

# Two-sided 95 % Student-t quantiles t_{0.975, df} for df = 1..30.
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
         2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
         2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t975(df: int) -> float:
    """Two-sided 95 % quantile of Student's t with df degrees of freedom."""
    if df < 1:
        return float("nan")
    if df <= 30:
        return _T975[df - 1]
    z = 1.959964  # Cornish-Fisher expansion around the normal quantile; < 1e-4 off for df > 30
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


def mean_ci(values) -> tuple:
    """(mean, half-width of the 95 % t confidence interval, n) over finite values.

    The half-width is nan with fewer than two values (no spread to estimate)."""
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(xs)
    if n == 0:
        return float("nan"), float("nan"), 0
    mean = sum(xs) / n
    if n < 2:
        return mean, float("nan"), n
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    return mean, t975(n - 1) * sd / math.sqrt(n), n


def group_points(points, keys) -> dict:
    """Groups points by their values of `keys` (seed excluded), in first-seen order."""
    groups: dict = {}
    for p in points:
        groups.setdefault(tuple(p.keys.get(k, "") for k in keys), []).append(p)
    return groups


def fmt_ci(mean: float, half: float, digits: int = 2, suffix: str = "") -> str:
    if not math.isfinite(mean):
        return "n/a"
    if not math.isfinite(half):
        return f"{mean:.{digits}f}{suffix}"
    return f"{mean:.{digits}f}{suffix} ± {half:.{digits}f}"


# The gap to the trace's clairvoyant bound (experiments with `oracle: true`), as table columns.
ORACLE_HEADER = ["cost ÷ oracle", "violations − oracle (points)"]


def has_oracle(points) -> bool:
    """Whether any point carries the oracle bound's columns."""
    return any(math.isfinite(p.metric("cost_over_oracle")) for p in points)


def oracle_cells(points) -> list:
    """Mean ± 95 % CI of the points' cost over the bound's and violation points above it."""
    cost = mean_ci(p.metric("cost_over_oracle") for p in points)
    gap = mean_ci(p.metric("violation_points_over_oracle") for p in points)
    return [fmt_ci(cost[0], cost[1], 2, "×"), fmt_ci(gap[0], gap[1], 2)]


def fmt_value(v) -> str:
    if v == "":
        return "(default)"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def short_key(key: str) -> str:
    """`policy_config.vm_scale_out_util` -> `vm_scale_out_util` for titles and labels."""
    return key.rsplit(".", 1)[-1]


# ----------------------------------------------------------------------------------- output

class Figures:
    """Collects what a script writes into its figures folder and prints the list at the end."""

    def __init__(self, directory: str):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.written: list = []

    def path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    def save(self, fig, name: str) -> str:
        path = self.path(name)
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
        plt.close(fig)
        self.written.append(path)
        return path

    def table(self, name: str, header: list, rows: list, title: str = "", notes: list = ()) -> None:
        """Writes NAME.csv and NAME.md with the same rows."""
        csv_path = self.path(name + ".csv")
        with open(csv_path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
        md_path = self.path(name + ".md")
        with open(md_path, "w") as f:
            if title:
                f.write(f"### {title}\n\n")
            f.write("| " + " | ".join(str(h) for h in header) + " |\n")
            f.write("|" + "|".join("---" for _ in header) + "|\n")
            for r in rows:
                f.write("| " + " | ".join(str(c) for c in r) + " |\n")
            for note in notes:
                f.write(f"\n{note}\n")
        self.written += [csv_path, md_path]

    def report(self) -> None:
        for path in self.written:
            print(f"wrote {path}")


def default_figures_dir(sweep: Sweep, fallback: str) -> str:
    name = os.path.basename(os.path.normpath(sweep.out_dir)) or fallback
    return os.path.join("figures", name)


def style() -> None:
    plt.rcParams.update({
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.fontsize": 8,
        "font.size": 9,
    })


def policy_colors(policies) -> dict:
    """Same colour for a policy in every figure; infaas is always the first (blue) colour."""
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ordered = sorted(policies, key=lambda p: (p != "infaas", p))
    return {p: cycle[i % len(cycle)] for i, p in enumerate(ordered)}


MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">"]


def policy_markers(policies) -> dict:
    """A distinct marker per policy, in the colours' order (so a figure reads in greyscale too)."""
    ordered = sorted(policies, key=lambda p: (p != "infaas", p))
    return {p: MARKERS[i % len(MARKERS)] for i, p in enumerate(ordered)}


def common_args(parser, experiment: str) -> None:
    parser.add_argument("out_dir", metavar="OUT_DIR",
                        help=f"sweep folder with index.csv and one folder per point "
                             f"(e.g. out/{experiment})")
    parser.add_argument("--figures", metavar="DIR",
                        help="where PNGs and tables go (default: figures/<basename of OUT_DIR>/)")


def sweep_command(experiment: str, out_dir: str) -> str:
    return f"infaas sweep experiments/{experiment}.yaml --seeds 3 --out {out_dir}"
