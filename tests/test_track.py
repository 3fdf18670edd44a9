"""Detectors, ByteTrack tracklets and their trajectory summary, on real photos and on vtest (pedestrians)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from videoagent.config import DetectorConfig, TracksConfig
from videoagent.index.tracklets import TrackletQuery
from videoagent.ingest.scenes import Segment
from videoagent.ingest.tracking import sample_times, sampled_frames, track_frames, trajectory
from videoagent.media.frames import open_frames
from videoagent.models.detect import Detections, HaarFaces, HogPeople, opencv_detector_files
from videoagent.models.encoders.histogram import ColourHistogram, colour_names
from videoagent.models.registry import load_detector

LABELS = json.loads((Path(__file__).parent / "data" / "vtest_people.json").read_text())
ASSETS = Path(cv2.__file__).parent.parent / "ultralytics" / "assets"
# The labelled people of vtest are 60-110 px tall; HOG needs ~96 px, so the far-field setting doubles them.
FAR_FIELD = TracksConfig(detect_height=1152)


def rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def iou(a, b) -> float:
    lt, rb = np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])
    inter = float(np.prod(np.clip(rb - lt, 0, None)))
    return inter / (np.prod(np.subtract(a[2:], a[:2])) + np.prod(np.subtract(b[2:], b[:2])) - inter)


def test_pinned_opencv_ships_its_detectors():
    files = opencv_detector_files()
    assert files["hog-people"] and files["haar-face"] and Path(files["haar-face"]).is_file()


@pytest.mark.slow
def test_haar_finds_both_faces_in_zidane():
    faces = HaarFaces(height=720).detect(rgb(ASSETS / "zidane.jpg"))
    assert faces.labels == ["face", "face"]
    # Zidane's face is right of centre, Ancelotti's far left.
    centres = sorted(((faces.boxes[:, 0] + faces.boxes[:, 2]) / 2).tolist())
    assert centres[0] < 300 and 900 < centres[1] < 1100
    assert np.all((faces.scores > 0.5) & (faces.scores <= 1))


@pytest.mark.slow
def test_hog_finds_labelled_pedestrians_in_vtest(media):
    frame_gt = LABELS["frames"][3]  # t=6 s: six people, all over 60 px tall
    frame = open_frames(media.path("vtest")).read([frame_gt["t"]])[0]
    dets = HogPeople(height=1152).detect(frame)
    gts = [p["box"] for p in frame_gt["people"]]
    hits = sum(max(iou(d, np.asarray(g, float)) for d in dets.boxes) >= 0.5 for g in gts)
    assert hits >= 4, (hits, dets.boxes)
    # At the cheap default input height these people are too small for HOG: nothing is invented.
    assert len(HogPeople(height=360).detect(frame)) <= 1


@pytest.mark.slow
def test_ssd_sees_the_vtest_pedestrians_hog_misses_at_the_default_size(media):
    """The default detector (MediaPipe's SSD on Open Images) at default settings: most labelled people
    of one vtest frame, where HOG at the same settings finds none (test above)."""
    frame_gt = LABELS["frames"][3]
    frame = open_frames(media.path("vtest")).read([frame_gt["t"]])[0]
    detector = load_detector(DetectorConfig(), TracksConfig().detect_height)
    assert detector.name == "mediapipe:ssd-mobilenetv2-oidv4"
    dets = detector.detect(frame)
    people = dets.boxes[[i for i, lab in enumerate(dets.labels) if lab == "person"]]
    gts = [np.asarray(p["box"], float) for p in frame_gt["people"]]
    hits = sum(max((iou(d, g) for d in people), default=0) >= 0.5 for g in gts)
    assert hits >= 4, (hits, people)
    assert np.all((dets.scores > 0) & (dets.scores <= 1))


@pytest.mark.slow
def test_ssd_names_objects_in_real_photos(media):
    detector = load_detector(DetectorConfig(), 360)
    photos = media.root / "_downloads" / "skimage"
    cat = detector.detect(rgb(photos / "chelsea.png"))
    assert cat.labels and cat.labels[int(np.argmax(cat.scores))] == "cat" and cat.scores.max() > 0.7
    cup = detector.detect(rgb(photos / "coffee.png"))
    assert "coffee cup" in cup.labels
    assert "person" in detector.detect(rgb(photos / "astronaut.png")).labels
    assert {"cat", "dog", "car", "person", "laptop"} <= set(detector.categories)


@pytest.mark.slow
def test_blazeface_finds_both_faces_in_zidane_and_none_on_a_cat(media, profile):
    from videoagent.models.registry import Models

    models = Models(profile)
    faces = models.get("face_detector")
    assert faces.name == "mediapipe:blazeface-full-range"
    found = faces.detect(rgb(ASSETS / "zidane.jpg"))
    assert found.labels == ["face", "face"] and np.all(found.scores >= 0.6)
    centres = sorted(((found.boxes[:, 0] + found.boxes[:, 2]) / 2).tolist())
    assert 550 < centres[0] < 700 and 900 < centres[1] < 1100  # Zidane, then Ancelotti behind him
    assert len(faces.detect(rgb(media.root / "_downloads" / "skimage" / "chelsea.png"))) == 0
    both = models.detector(360)  # the profile's detector and the faces beside it
    assert both.name == "mediapipe:ssd-mobilenetv2-oidv4+mediapipe:blazeface-full-range"
    assert {"person", "face"} <= set(both.categories)


def test_trajectory_sides_direction_and_speed():
    times = [0.0, 1.0, 2.0, 3.0]
    # A box walking in from the right edge and leaving on the left, 0.3 frame widths a second.
    boxes = [[0.93 - 0.3 * i, 0.4, 0.99 - 0.3 * i, 0.6] for i in range(4)]
    traj = trajectory(times, boxes, edge_margin=0.1)
    assert traj["enters"] == "right" and traj["exits"] == "left" and traj["direction"] == "left"
    assert traj["mean_speed"] == pytest.approx(0.3, abs=1e-6)
    still = trajectory(times, [[0.4, 0.4, 0.5, 0.6]] * 4, edge_margin=0.1)
    assert still["direction"] == "still" and still["enters"] == "inside" and still["mean_speed"] == 0


def test_sample_times_stay_inside_each_scene():
    segs = [Segment(0.0, 4.0), Segment(4.0, 4.3), Segment(4.3, 6.0)]
    times = sample_times(segs, fps=2.0)
    assert times[0] == [0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75]
    assert times[1] == [4.15]  # shorter than one step: its middle
    assert all(s.start_s <= t < s.end_s for s, ts in zip(segs, times, strict=True) for t in ts)


@pytest.mark.slow
def test_colour_descriptor_and_names_on_real_photos(media):
    coffee = (
        rgb(media.root / "_downloads" / "coffee.png") if (media.root / "_downloads" / "coffee.png").exists() else None
    )
    bus = rgb(ASSETS / "bus.jpg")
    blue_bus = bus[230:740, 0:810]  # the bus body
    enc = ColourHistogram()
    a, b = enc.encode_images([blue_bus, blue_bus[::-1]])  # same pixels, other order: same histogram
    assert float(a @ b) == pytest.approx(1.0, abs=1e-5) and enc.learned is False
    assert "blue" in colour_names(blue_bus)
    if coffee is not None:
        assert "red" in colour_names(coffee[300:, :]) or "orange" in colour_names(coffee[300:, :])


@pytest.mark.slow
def test_tracking_vtest_follows_people_with_few_switches(media):
    """8 s of vtest at 2 fps: tracked boxes match the hand labels, and matched people keep their ids."""
    detector = HogPeople(FAR_FIELD.detect_height)
    times = [i * 0.5 for i in range(17)]
    run = track_frames(sampled_frames(str(media.path("vtest")), [times]), detector, FAR_FIELD)
    assert run.frames == 17 and run.failed_frames == 0
    people = [tr for tr in run.tracklets if tr.category == "person"]
    assert 3 <= len(people) <= 9
    matched, ids_of = 0, {}
    for frame_gt in LABELS["frames"][:5]:  # t = 0, 2, 4, 6, 8
        for p in frame_gt["people"]:
            box = np.asarray(p["box"], float)
            for tr in people:
                if frame_gt["t"] in tr.times:
                    b = np.asarray(tr.boxes[tr.times.index(frame_gt["t"])]) * [768, 576, 768, 576]
                    if iou(b, box) >= 0.5:
                        matched += 1
                        ids_of.setdefault(p["id"], set()).add(tr.index)
    assert matched >= 12
    assert sum(len(v) - 1 for v in ids_of.values()) <= 3  # id switches among the people it followed
    crops = run.crops[people[0].index]
    assert crops and crops[0][1].ndim == 3 and crops[0][1].size > 0


class FlakyDetector:
    """HOG, except that it raises on every third frame (a detector bug must not lose the video)."""

    name = "flaky"
    categories = ("person",)

    def __init__(self):
        self.inner, self.calls = HogPeople(FAR_FIELD.detect_height), 0

    def detect(self, frame):
        self.calls += 1
        if self.calls % 3 == 0:
            raise RuntimeError("simulated detector crash")
        return self.inner.detect(frame)


@pytest.mark.slow
def test_detector_failure_on_some_frames_is_recorded(media):
    samples = sampled_frames(str(media.path("vtest")), [[0.0, 0.5, 1.0, 1.5, 2.0, 2.5]])
    run = track_frames(samples, FlakyDetector(), FAR_FIELD)
    assert run.frames == 6 and run.failed_frames == 2 and "simulated detector crash" in run.first_error


def test_tiny_frames_and_empty_detections():
    tiny = np.zeros((8, 8, 3), np.uint8)
    assert len(HogPeople(360).detect(tiny)) == 0 and len(HaarFaces(360).detect(tiny)) == 0
    both = Detections.empty() + Detections.empty()
    assert both.boxes.shape == (0, 4) and both.labels == []


def test_yolo_detector_loads_from_a_path(tmp_path):
    """Plumbing only: an untrained YOLO saved to disk, loaded by the same code as real weights."""
    from videoagent.models.detect import ultralytics_env

    ultralytics_env()
    import yaml
    from ultralytics import YOLO

    path = tmp_path / "tiny-yolo.pt"
    model = YOLO("yolo11n.yaml")
    coco = Path(cv2.__file__).parent.parent / "ultralytics" / "cfg" / "datasets" / "coco.yaml"
    model.model.names = yaml.safe_load(coco.read_text())["names"]  # as a COCO-trained checkpoint carries them
    model.save(str(path))
    det = load_detector(DetectorConfig(backend="yolo", model=str(path), yolo_imgsz=160, yolo_conf=0.0), height=360)
    assert det.name == "yolo:tiny-yolo.pt" and "person" in det.categories
    out = det.detect(rgb(ASSETS / "bus.jpg"))
    assert out.boxes.shape[1] == 4 and len(out.scores) == len(out.labels)
    assert all(label in det.categories for label in out.labels)


def test_missing_yolo_weights_fall_back_or_are_reported():
    from videoagent.models.weights import MissingWeights

    assert isinstance(load_detector(DetectorConfig(backend="yolo", model="no-such-weights.pt"), 360), HogPeople)
    with pytest.raises(MissingWeights):
        load_detector(DetectorConfig(backend="yolo", model="no-such-weights.pt", fallback=None), 360)


def test_query_filters():
    rec = {"category": "person", "start_s": 2.0, "end_s": 6.0, "trajectory": {"enters": "right", "exits": "left"}}
    assert TrackletQuery(category="person", start_s=5.0, end_s=9.0, enters="right").matches(rec)
    assert not TrackletQuery(category="face").matches(rec)
    assert not TrackletQuery(start_s=6.5).matches(rec)
    assert not TrackletQuery(end_s=1.0).matches(rec)
    assert not TrackletQuery(enters="left").matches(rec)
    assert TrackletQuery(exits="left").matches(rec)
