"""Evaluate people detection and tracking against the hand labels of vtest.avi (tests/data/vtest_people.json).

Reports, on the labelled frames (every 2 s over the labelled window):
  - detection precision / recall at IoU >= 0.5 (the detector alone, on each labelled frame);
  - the same for the tracker's output boxes (only boxes of kept tracklets);
  - count error: mean |people counted - people labelled| per frame, and distinct tracklets vs distinct people;
  - ID switches: a labelled person whose matched tracklet changes from one labelled frame to the next.
People under `min_height_px` tall are "ignore" regions (a detection on one is neither right nor wrong).
How the labels were made: tests/data/vtest_people.md.

Every detector named by --detectors runs in the same call, on the same frames and tracker settings:
`profile` (the profile's detector, default the SSD), `hog`, `haar`, `yolo` (only when its weights are on disk).

    .venv/bin/python tools/eval_tracking.py [--detectors profile,hog] [--video PATH] [--fps 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from videoagent.config import load_pipeline, load_profile  # noqa: E402
from videoagent.ingest.tracking import sampled_frames, track_frames  # noqa: E402
from videoagent.media.frames import open_frames  # noqa: E402
from videoagent.models.registry import load_detector  # noqa: E402

LABELS = ROOT / "tests" / "data" / "vtest_people.json"


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, float).reshape(-1, 4), np.asarray(b, float).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


def match(dets: np.ndarray, gts: np.ndarray, ignore: np.ndarray, thr: float = 0.5) -> tuple[dict[int, int], int]:
    """Optimal one-to-one det->gt matches at IoU >= thr, and the false positives (ignoring those on ignore boxes)."""
    pairs: dict[int, int] = {}
    if len(dets) and len(gts):
        iou = iou_matrix(dets, gts)
        rows, cols = linear_sum_assignment(-iou)
        pairs = {int(r): int(c) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= thr}
    unmatched = [i for i in range(len(dets)) if i not in pairs]
    if len(ignore) and unmatched:
        on_ignored = iou_matrix(np.asarray(dets)[unmatched], ignore).max(axis=1) >= thr
        unmatched = [i for i, ign in zip(unmatched, on_ignored, strict=True) if not ign]
    return pairs, len(unmatched)


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    return {
        "precision": round(tp / max(tp + fp, 1), 3),
        "recall": round(tp / max(tp + fn, 1), 3),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", type=Path, help="vtest.avi [default: the fixture, else Debian's copy]")
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--profile", default=None)
    ap.add_argument("--fps", type=float, help="tracking sample rate [default: the pipeline's]")
    ap.add_argument("--detect-height", type=int, help="detector input height [default: the pipeline's]")
    ap.add_argument("--detectors", default="profile,hog", help="comma-separated: profile, hog, haar, yolo")
    ap.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = ap.parse_args()

    labels = json.loads(args.labels.read_text())
    video = args.video or next(
        p
        for p in (ROOT / ".fixtures/real/vtest.avi", Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi"))
        if p.exists()
    )
    pipe = load_pipeline()
    over = {k: v for k, v in (("sample_fps", args.fps), ("detect_height", args.detect_height)) if v}
    cfg = pipe.tracks.model_copy(update=over)
    profile = load_profile(args.profile)
    reports = []
    for which in args.detectors.split(","):
        dcfg = profile.detector
        if which != "profile":
            update = {"fallback": which, "model": None} if which in ("hog", "haar") else {"backend": which}
            dcfg = dcfg.model_copy(update=update)
        reports.append(evaluate(load_detector(dcfg, cfg.detect_height), cfg, video, labels, args.labels))
    report = reports[0] if len(reports) == 1 else {"detectors": reports}
    print(json.dumps(report) if args.json else json.dumps(report, indent=1))


def evaluate(detector, cfg, video: Path, labels: dict, labels_path: Path) -> dict:
    """One detector (and ByteTrack on its boxes) against the hand labels."""
    reader = open_frames(video)
    w, h = labels["size"]
    min_h = labels["min_height_px"]

    frames = labels["frames"]
    gt_times = [f["t"] for f in frames]
    gts, ignores, ids = [], [], []
    for f in frames:
        big = [p for p in f["people"] if p["box"][3] - p["box"][1] >= min_h]
        gts.append(np.asarray([p["box"] for p in big], float).reshape(-1, 4))
        ids.append([p["id"] for p in big])
        ignores.append(np.asarray([p["box"] for p in f["people"] if p["box"][3] - p["box"][1] < min_h]).reshape(-1, 4))

    # 1. The detector alone on the labelled frames.
    started = time.perf_counter()
    det_tp = det_fp = det_fn = 0
    for frame, gt, ign in zip(reader.read(gt_times), gts, ignores, strict=True):
        dets = detector.detect(frame)
        people = dets.boxes[[i for i, lab in enumerate(dets.labels) if lab == "person"]]
        pairs, fp = match(people, gt, ign)
        det_tp, det_fp, det_fn = det_tp + len(pairs), det_fp + fp, det_fn + len(gt) - len(pairs)
    detect_ms = (time.perf_counter() - started) / len(frames) * 1000

    # 2. Tracking over the labelled window, sampled so that every labelled time is a sampled time.
    start, end = labels["window_s"]
    step = 1.0 / cfg.sample_fps
    times = [round(start + i * step, 3) for i in range(int(round((end - start) / step)) + 1)]
    missing = set(gt_times) - set(times)
    if missing:
        raise SystemExit(
            f"--fps {cfg.sample_fps}: labelled times {sorted(missing)} are not sampled; use 0.5, 1, 2, 5 ..."
        )
    started = time.perf_counter()
    run = track_frames(sampled_frames(str(video), [times]), detector, cfg)
    track_wall = time.perf_counter() - started
    people_tracks = [tr for tr in run.tracklets if tr.category == "person"]
    by_time: dict[float, list[tuple[int, list[float]]]] = {}
    for tr in people_tracks:
        for t, box in zip(tr.times, tr.boxes, strict=True):
            by_time.setdefault(t, []).append((tr.index, [box[0] * w, box[1] * h, box[2] * w, box[3] * h]))

    trk_tp = trk_fp = trk_fn = switches = 0
    count_err = []
    last_track: dict[str, int] = {}
    for t, gt, ign, names in zip(gt_times, gts, ignores, ids, strict=True):
        rows = by_time.get(t, [])
        boxes = np.asarray([b for _, b in rows], float).reshape(-1, 4)
        pairs, fp = match(boxes, gt, ign)
        trk_tp, trk_fp, trk_fn = trk_tp + len(pairs), trk_fp + fp, trk_fn + len(gt) - len(pairs)
        count_err.append(abs(len(pairs) + fp - len(gt)))  # boxes on ignore regions are not counted
        for d, g in pairs.items():
            track = rows[d][0]
            if names[g] in last_track and last_track[names[g]] != track:
                switches += 1
            last_track[names[g]] = track

    distinct_all = labels["distinct_people"]
    distinct_big = len({name for frame_ids in ids for name in frame_ids})
    report = {
        "video": str(video),
        "labels": str(labels_path),
        "detector": detector.name,
        "sample_fps": cfg.sample_fps,
        "detect_height": cfg.detect_height,
        "labelled_frames": len(frames),
        "labelled_people": int(sum(len(g) for g in gts)),
        "detection": {**prf(det_tp, det_fp, det_fn), "ms_per_frame": round(detect_ms, 1)},
        "tracked_boxes": prf(trk_tp, trk_fp, trk_fn),
        "id_switches": switches,
        "people_matched_ever": len(last_track),
        "count_error_per_frame": round(float(np.mean(count_err)), 2),
        "distinct": {
            "tracklets": len(people_tracks),
            "people_labelled": distinct_all,
            "people_labelled_over_min_height": distinct_big,
            "error": len(people_tracks) - distinct_big,
        },
        "tracking": {
            "frames": run.frames,
            "failed_frames": run.failed_frames,
            "tracks_dropped": run.dropped,
            "seconds": round(track_wall, 1),
            "detect_s": round(run.detect_s, 1),
            "track_s": round(run.track_s, 2),
        },
    }
    return report


if __name__ == "__main__":
    main()
