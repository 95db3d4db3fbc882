#!/usr/bin/env python3
"""The three SLOs of scripts/demo-live, derived from the profiles it has just measured.

    python3 scripts/demo_slos.py VARIANTS.json [--loose-slo-ms 100] [--cpu-excluded-ms 50]

VARIANTS.json is `infaas profiles show STORE --json` of the demo's variants, as the master
registers them (their .config files imported, so the latency model is the one the master
fits). Prints shell assignments on stdout (for `eval`):

    loose_slo, tight_slo, batch_slo       the SLOs in ms
    loose_threshold                       the policy's loose-SLO threshold for this machine
                                          (policy_config loose_slo_ms; the reference's 100 when
                                          it already lies between the fastest and the next)
    loose_expect, tight_expect, batch_expect
                                          space-separated variants the master may choose
                                          (the reference's rule on a cold cluster; ties kept)
    loose_why, tight_why, batch_why       the rule that picks them, in words
    policy_settings                       space-separated KEY=VALUE for the master's
                                          --policy-set: loose_slo_ms, and the overload
                                          protection turned off (OVERLOAD_OFF, below)

and on stderr why each SLO and each expected variant, one line each. Exits 1 with a reason
when the measured profiles cannot give the three distinct choices (e.g. every variant is so
fast that CPU variants are not used at an SLO below it).

The rules (reference §3.3, as the Swift policy implements them; thresholds are PolicyConfig's
defaults `loose_slo_ms` 100 and `cpu_excluded_at_or_below_slo_ms` 50):
  * the loose threshold: the reference's 100 ms when the fastest variant is below it and the next
    one is not (the reference's speeds); on a slower (or busier) machine every variant may take
    100 ms or more, and a loose SLO would then pick the fastest, not the slow cheap one: the
    threshold becomes the tight SLO below, scaled to this machine;
  * loose: above the slowest variant's batch-1 latency (2x it, at least the threshold + 1 ms);
  * tight: between the fastest batch-1 latency and the next slower one (their geometric mean, at
    most the threshold), above the CPU exclusion threshold;
  * batch 2: 1.5x the lowest batch-2 prediction among variants that take batches.
A variant's batch-1 latency is its measured batch-1 point, else the model's prediction; the
prediction at batch b is slope*b + intercept (CPU variants are judged at the query's batch).

The demo walks through variant *selection*, so it turns INFaaS's overload protection off
(OVERLOAD_OFF): on a busy machine it moved a repeat query to another variant for reasons of load,
not of the rules above. Seen with two CPU busy loops beside the demo: the slow variant's cold first
query took 8.3 s (the load counts in the query's latency), above 4x its 1180 ms prediction while
its one query a second was above the 0.85 q/s a 1180 ms variant serves, so the worker's monitor
blacklisted the variant and the repeat loose query took a cold faster one instead; with a variant
that slow, one query in flight at a monitor tick is also above the queue limit (1.1 x capacity).
The reply's reason then names only the SLOs, so the demo cannot tell the user why. Then, with the
blacklists off: the model autoscaler added a second replica of the slow variant (its queries were
above one replica's capacity), and while that second copy loaded the worker sent no report for over
a second, so the master retired it and the next query found no worker. The demo says all this when
it starts the cluster; a real deployment keeps the defaults.
"""

import argparse
import json
import math
import shlex
import sys


class DemoError(Exception):
    pass


# PolicyConfig keys (infaas simulate --list-policy-keys) that turn the overload protection (and the
# model autoscaler's scale-up) off, each with what it would otherwise do.
OVERLOAD_OFF = (
    ("single_cpu_latency_factor", "1000", "a one-replica CPU variant is blacklisted when its average latency exceeds 4x its prediction (at load)"),
    ("latency_factor", "1000", "the same for variants with several replicas (2.5x)"),
    ("single_cpu_queue_factor", "1000", "a one-replica CPU variant is blacklisted when more queries are outstanding than 1.1x what it serves in a second"),
    ("queue_factor", "1000", "the same for several replicas (0.8x)"),
    ("blacklist_utilization", "100", "a worker above 80 % CPU is blacklisted for 2 s"),
    ("worker_guard_enabled", "false", "a worker sent 200 queries within 1 s is blacklisted"),
    ("max_replicas_cpu", "1", "the model autoscaler adds a second replica of a CPU variant whose queries exceed what one serves "
     "(a 3 s variant serves 0.3 q/s, so the demo's own queries do); loading that second 550 MB copy on a busy machine "
     "kept the worker from reporting until the master retired it"),
)


def batch1_ms(v):
    for p in v["latency"]["points"]:
        if p["batch"] == 1:
            for key in ("p50Ms", "meanMs", "p90Ms"):
                if p.get(key) is not None:
                    return p[key]
    return predicted_ms(v, 1)


def predicted_ms(v, batch):
    m = v["latency"]["model"]
    return m["slopeMs"] * batch + m["interceptMs"]


def expected(variants, slo, batch, loose, cpu_excluded):
    """The variants the reference's architecture search may pick for a cold cluster."""
    qualifying = [v for v in variants
                  if v["maxBatch"] >= batch and predicted_ms(v, batch) <= slo
                  and not (v.get("hardware", "cpu") == "cpu" and slo <= cpu_excluded)]
    if not qualifying:
        return [], "no variant meets it"
    if slo > loose:
        preferred = [v for v in qualifying if batch1_ms(v) >= loose]
        pool = preferred or [v for v in qualifying if batch1_ms(v) <= slo]
        if not pool:
            return [], "no variant meets it"
        best = min(batch1_ms(v) for v in pool)
        chosen = [v for v in pool if batch1_ms(v) == best]
        why = (f"an SLO above {fmt(loose)} ms is loose: the fastest variant whose batch-1 latency is at least {fmt(loose)} ms"
               if preferred else
               f"an SLO above {fmt(loose)} ms is loose, but no variant is that slow: the fastest that meets it")
    else:
        smallest = min(v["maxBatch"] for v in qualifying)
        pool = [v for v in qualifying if v["maxBatch"] == smallest]
        best = min(batch1_ms(v) for v in pool)
        chosen = [v for v in pool if batch1_ms(v) == best]
        why = f"a tight SLO: among the variants predicted within it, the smallest max batch ({smallest})"
    return sorted(v["name"] for v in chosen), why


def fmt(ms):
    return f"{ms:.0f}" if ms == round(ms) else f"{ms:.1f}"


def derive(variants, loose=100.0, cpu_excluded=50.0):
    """Returns (assignments dict, reasons list); raises DemoError when no three SLOs work."""
    if len(variants) < 2:
        raise DemoError(f"need at least two variants, got {len(variants)}")
    reasons = []
    b1 = sorted((batch1_ms(v), v["name"]) for v in variants)
    for ms, name in b1:
        reasons.append(f"profiled: {name} batch-1 {ms:.1f} ms")
    slowest, slowest_name = b1[-1]
    fastest, fastest_name = b1[0]

    slower = [ms for ms, _ in b1 if ms > fastest]
    if not slower:
        raise DemoError(f"every variant profiled at {fastest:.1f} ms at batch 1: no SLO separates them")
    following = slower[0]
    following_name = next(name for ms, name in b1 if ms == following)
    floor = cpu_excluded + 1  # CPU variants are not used for SLOs at or below cpu_excluded
    if following <= floor:
        raise DemoError(f"the variants are too fast for this demo on this machine: the second fastest ({following_name}) takes "
                        f"{following:.1f} ms, and CPU variants serve only SLOs above {fmt(cpu_excluded)} ms")
    tight = max(math.sqrt(fastest * following), floor)
    tight = math.floor(tight) if math.floor(tight) > max(fastest, cpu_excluded) else round(tight, 1)
    if fastest < loose <= following:
        threshold = loose
        reasons.append(f"loose threshold {fmt(loose)} ms (the reference's): the fastest variant is below it, the next is not")
    else:
        threshold = tight
        reasons.append(f"loose threshold {fmt(threshold)} ms, not the reference's {fmt(loose)}: on this machine "
                       + (f"every variant takes {fmt(loose)} ms or more" if fastest >= loose else f"every variant is faster than {fmt(loose)} ms")
                       + "; the demo starts the master with --policy-set loose_slo_ms=" + fmt(threshold))
    tight = min(tight, threshold)
    if not (tight >= fastest and tight < following):
        raise DemoError(f"no SLO lies between {fastest:.1f} ms and {following:.1f} ms above {fmt(cpu_excluded)} ms")

    loose_slo = math.ceil(max(2 * slowest, threshold + 1))
    reasons.append(f"loose SLO {loose_slo} ms: above the slowest variant ({slowest_name}, {slowest:.1f} ms at batch 1)")
    reasons.append(f"tight SLO {fmt(tight)} ms: between the fastest ({fastest_name}, {fastest:.1f} ms) and the next "
                   f"({following_name}, {following:.1f} ms)")
    loose = threshold

    batching = [v for v in variants if v["maxBatch"] >= 2]
    if not batching:
        raise DemoError("no variant takes a batch of 2")
    p2, p2_name = min((predicted_ms(v, 2), v["name"]) for v in batching)
    batch_slo = math.ceil(max(1.5 * p2, floor))
    reasons.append(f"batch-2 SLO {batch_slo} ms: 1.5x the batch-2 prediction of {p2_name} ({p2:.1f} ms); "
                   f"the other variants take batch 1 only")

    out = {"loose_threshold": fmt(threshold), "loose_slo": fmt(loose_slo), "tight_slo": fmt(tight), "batch_slo": fmt(batch_slo)}
    for key, slo, batch in (("loose", loose_slo, 1), ("tight", tight, 1), ("batch", batch_slo, 2)):
        names, why = expected(variants, slo, batch, loose, cpu_excluded)
        if not names:
            raise DemoError(f"the {key} SLO {fmt(slo)} ms at batch {batch}: {why}")
        out[f"{key}_expect"] = " ".join(names)
        out[f"{key}_why"] = why
        reasons.append(f"expected for the {key} query: {' or '.join(names)} ({why})")
    if slowest_name in out["tight_expect"].split():
        raise DemoError(f"the tight SLO would still allow the slowest variant ({slowest_name})")
    out["policy_settings"] = " ".join([f"loose_slo_ms={out['loose_threshold']}"] + [f"{k}={v}" for k, v, _ in OVERLOAD_OFF])
    return out, reasons


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", help="JSON of `infaas profiles show STORE --json`")
    parser.add_argument("--loose-slo-ms", type=float, default=100.0)
    parser.add_argument("--cpu-excluded-ms", type=float, default=50.0)
    args = parser.parse_args(argv)
    with open(args.variants) as f:
        variants = json.load(f)
    try:
        out, reasons = derive(variants, loose=args.loose_slo_ms, cpu_excluded=args.cpu_excluded_ms)
    except DemoError as e:
        print(f"demo-live: {e}", file=sys.stderr)
        return 1
    for line in reasons:
        print(line, file=sys.stderr)
    for key, value in out.items():
        print(f"{key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
