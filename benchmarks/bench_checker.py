"""Detection table of the physics checker over the engine's own impossible twins.

For every violation kind the families offer, ``--clips`` impossible twins (seeds 0.., spread
over the families offering the kind) are rendered; each video is audited with
``twinsim.bridge.check_physics`` against the engine labels of its *possible* twin (the scene
it should show). A clip counts as detected when a finding names the violating object (for
``appear``, whose possible twin lacks the body, a finding whose box overlaps the body's true
pixels) and the labelled violation frame lies in the finding's ``[start - 2, onset + 2]``.
False alarms: any finding on a possible twin checked against its own labels. Both are measured
on the raw frames and after an H.264 mp4 round trip (the video as it would arrive as a file),
so the false-alarm column is not trivially zero.

    python benchmarks/bench_checker.py [--clips 48] [--slack 2] [--no-mp4]

Prints a markdown table and appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm
from twinsim.bridge import check_physics
from twinsim.sim import family_info, family_names, sample_scene, simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

LABELS = ["rgb", "segmentation"]
# the checker's name for what each scripted violation looks like in a video
EXPECTED = {"change_shape": "change_size", "pass_through": "sink"}


def mp4_roundtrip(frames: np.ndarray, fps: float = 24.0) -> np.ndarray:
    """Encode as H.264 yuv420p (the preview settings) and decode again."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        st = out.add_stream("libx264", rate=int(fps))
        st.width, st.height, st.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        st.options = {"crf": "18"}
        for f in frames:
            for pkt in st.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    buf.seek(0)
    with av.open(buf) as inp:
        dec = [fr.to_ndarray(format="rgb24") for fr in inp.decode(video=0)]
    return np.stack(dec)


def kinds_offered() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for fam in family_names():
        for kind in family_info(fam).violations:
            out[kind].append(fam)
    return dict(out)


def violating_objects(spec) -> set[str]:
    """Names a finding may name to detect ``spec.violation``: the body, its group (shards, drops)
    and the bodies joined to it (a glass that does not shatter shows its shards held together)."""
    v = spec.violation
    names = {v.body, *v.group}
    grow = v.kind == "no_shatter"
    while grow:  # every piece joined to the body, directly or through other pieces
        more = {n for j in spec.joints if {j.parent, j.child} & names for n in (j.parent, j.child)}
        grow, names = bool(more - names), names | more
    return names


def hit(findings, imp, imp_seg, obj_id: int, slack: int, frame: int | None = None):
    """The first finding that detects ``imp.violation`` (right object, frame in range), or None."""
    violation = imp.violation
    objects = violating_objects(imp)
    for f in findings:
        if not f.covers(violation.frame if frame is None else frame, slack):
            continue
        if violation.kind == "appear":
            x0, y0, x1, y1 = f.bbox
            if x0 >= 0 and (imp_seg[f.onset, y0:y1, x0:x1] == obj_id).any():
                return f
        elif f.object in objects or (
            f.object.endswith("*") and any(n.startswith(f.object[:-1]) for n in objects)
        ):  # a crowd (drop*) of which the violation's group is part
            return f
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--clips", type=int, default=48, help="impossible twins per kind (>= 48 for the table)"
    )
    ap.add_argument(
        "--slack", type=int, default=2, help="frames of slack around the violation frame"
    )
    ap.add_argument("--no-mp4", action="store_true", help="skip the mp4 round-trip rows")
    ap.add_argument("--kinds", default="", help="CSV of violation kinds (default: every offered)")
    ap.add_argument("--no-append", action="store_true", help="print only, do not touch RESULTS.md")
    args = ap.parse_args()
    variants = ["raw"] + ([] if args.no_mp4 else ["mp4"])
    offered = kinds_offered()
    if args.kinds:
        wanted = args.kinds.split(",")
        unknown = sorted(set(wanted) - set(offered))
        if unknown:
            ap.error(f"unknown kinds {unknown}; the families offer {sorted(offered)}")
        offered = {k: offered[k] for k in wanted}
    stats = {v: defaultdict(lambda: defaultdict(int)) for v in variants}
    misses: dict[str, list[str]] = defaultdict(list)
    possible_done: set[tuple[str, int]] = set()
    cache: dict[tuple[str, int, bool], object] = {}
    widths = {v: defaultdict(list) for v in variants}  # frames in [start, onset] of detections
    t0 = time.perf_counter()
    jobs = [(k, offered[k][i % len(offered[k])], i) for k in offered for i in range(args.clips)]
    for kind, fam, seed in tqdm(jobs, desc="twins", unit="clip"):
        imp = sample_scene(fam, seed, impossible=kind)
        pos_spec = imp.possible_twin()
        key = (fam, seed, kind == "appear")  # the appear twin's possible scene lacks the body
        if key not in cache:
            cache[key] = simulate(pos_spec, labels=LABELS)
        pos = cache[key]
        bad = simulate(imp, labels=LABELS)
        obj_id = imp.names.index(imp.violation.body) + 1
        for var in variants:
            video = bad.rgb if var == "raw" else mp4_roundtrip(bad.rgb)
            rep = check_physics(video, pos)
            found = hit(rep.findings, imp, bad.segmentation, obj_id, args.slack)
            ok = found is not None
            s = stats[var][kind]
            if found is not None:
                widths[var][kind].append(found.onset - found.start + 1)
            s["clips"] += 1
            s["hit"] += ok
            # first frame where the twins' pixels differ (a violation labelled out of sight,
            # e.g. behind an occluder, shows later than its frame)
            seen = int(np.argmax((bad.rgb != pos.rgb).any(axis=(1, 2, 3))))
            s["hit_seen"] += ok or bool(
                hit(rep.findings, imp, bad.segmentation, obj_id, args.slack, seen)
            )
            s["kind_right"] += ok and any(f.kind == EXPECTED.get(kind, kind) for f in rep.findings)
            if not ok and var == variants[-1]:
                misses[kind].append(
                    f"{fam}/{seed}: {[(f.kind, f.object, f.start, f.onset) for f in rep.findings]} v@{imp.violation.frame}"
                )
        key = (pos_spec.family or fam, seed)
        if kind != "appear" and key not in possible_done:
            possible_done.add(key)
            for var in variants:
                video = pos.rgb if var == "raw" else mp4_roundtrip(pos.rgb)
                rep = check_physics(video, pos)
                s = stats[var]["possible"]
                s["clips"] += 1
                s["false"] += bool(rep.findings)
    wall = time.perf_counter() - t0
    rows = []
    for var in variants:
        for kind in offered:
            s = stats[var][kind]
            rows.append(
                [
                    var,
                    kind,
                    ", ".join(offered[kind]),
                    s["clips"],
                    s["hit"] / s["clips"],
                    s["hit_seen"] / s["clips"],
                    s["kind_right"] / s["clips"],
                    float(np.median(widths[var][kind])) if widths[var][kind] else "-",
                    "-",
                ]
            )
        p = stats[var]["possible"]
        rows.append(
            [var, "possible twins", "all", p["clips"], "-", "-", "-", "-", p["false"] / p["clips"]]
        )
    table = _common.markdown_table(
        [
            "video",
            "kind",
            "families",
            "clips",
            f"detected (object, labelled frame ±{args.slack})",
            "detected at the labelled or the first visible frame",
            "detected with the right kind",
            "median frames in [start, onset]",
            "false alarms",
        ],
        rows,
    )
    print(table)
    print(f"\n{wall:.0f} s")
    for kind, m in misses.items():
        print(f"misses {kind} ({len(m)}):", *m[:6], sep="\n  ")
    if not args.no_append:
        cmd = "python benchmarks/bench_checker.py " + " ".join(sys.argv[1:])
        _common.append_results(
            "Physics checker: detection over the engine's impossible twins (bridge)",
            table + f"\n\nwall time {wall:.0f} s (shared 2-core machine)\n",
            [cmd.strip()],
        )


if __name__ == "__main__":
    main()
