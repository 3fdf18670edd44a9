"""Object detectors behind one small interface: ultralytics YOLO (when its weights are on disk) and the
offline defaults that ship inside opencv-python: the HOG people detector and the Haar face cascade.

Every detector takes one RGB frame and returns boxes in that frame's pixels, a confidence in [0, 1]
and a category name. OpenCV's detectors return SVM margins / cascade stage sums, not probabilities:
they are squashed with a logistic so the tracker's thresholds mean the same thing for every backend.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from .weights import MissingWeights

HAAR_FACE = "haarcascade_frontalface_default.xml"
# OpenCV's 64x128 HOG window holds a ~96 px person with a margin; its peopledetect sample trims
# 15% of the width and 5% of the height on each side to get the person's own box.
HOG_PAD = (0.15, 0.05)


@dataclass
class Detections:
    boxes: np.ndarray  # [N,4] float32 x1,y1,x2,y2 in frame pixels
    scores: np.ndarray  # [N] float32 in [0, 1]
    labels: list[str]

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), [])

    def __len__(self) -> int:
        return len(self.labels)

    def __add__(self, other: Detections) -> Detections:
        return Detections(
            np.concatenate([self.boxes, other.boxes]),
            np.concatenate([self.scores, other.scores]),
            self.labels + other.labels,
        )


class Detector(Protocol):
    name: str  # recorded with every tracklet
    categories: tuple[str, ...]

    def detect(self, frame: np.ndarray) -> Detections:
        """One [H,W,3] uint8 RGB frame -> detections in its pixels."""
        ...


def _logistic(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float32)))).astype(np.float32)


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` resized to BlazeFace's input: bilinear, as MediaPipe's own image-to-tensor step samples it.
    30x faster than INTER_AREA (a 720p frame: 0.26 ms vs 7.8), and BlazeFace scored the far face of
    zidane.jpg 0.66 this way, 0.62 with INTER_AREA."""
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def _gray(frame: np.ndarray, height: int) -> tuple[np.ndarray, float]:
    """Grey copy resized to `height` rows (the detector's input size) and the scale it was resized by."""
    scale = height / frame.shape[0]
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    if abs(scale - 1.0) > 1e-3:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        gray = cv2.resize(gray, (max(1, round(frame.shape[1] * scale)), height), interpolation=interp)
    return gray, scale


class HogPeople:
    """OpenCV's HOG + linear SVM pedestrian detector (Dalal-Triggs, trained on INRIA people).

    It finds upright people at least ~96 px tall in its input, so `height` (the frame height it sees)
    sets the smallest person found: about 96/height of the frame's height.
    """

    name = "opencv:hog-people"
    categories = ("person",)

    def __init__(self, height: int, pyramid_scale: float = 1.2, hit_threshold: float = 0.0):
        if not hasattr(cv2, "HOGDescriptor"):
            raise MissingWeights("detector", "hog-people", "this opencv build has no HOGDescriptor")
        self.height = height
        self.pyramid_scale = pyramid_scale
        self.hit_threshold = hit_threshold
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect(self, frame: np.ndarray) -> Detections:
        gray, scale = _gray(frame, self.height)
        if gray.shape[0] < 128 or gray.shape[1] < 64:  # smaller than one detection window
            return Detections.empty()
        rects, margins = self._hog.detectMultiScale(
            gray, winStride=(8, 8), padding=(8, 8), scale=self.pyramid_scale, hitThreshold=self.hit_threshold
        )
        if len(rects) == 0:
            return Detections.empty()
        r = np.asarray(rects, dtype=np.float32)
        pad = r[:, 2:4] * np.asarray(HOG_PAD, np.float32)
        boxes = np.concatenate([r[:, :2] + pad, r[:, :2] + r[:, 2:4] - pad], axis=1) / scale
        return Detections(boxes, _logistic(np.ravel(margins)), ["person"] * len(r))


class HaarFaces:
    """OpenCV's Viola-Jones frontal face cascade (`cv2.data.haarcascades`)."""

    name = "opencv:haar-frontalface"
    categories = ("face",)

    def __init__(self, height: int, min_face: int = 24):
        path = Path(getattr(getattr(cv2, "data", None), "haarcascades", "")) / HAAR_FACE
        if not hasattr(cv2, "CascadeClassifier") or not path.is_file():
            raise MissingWeights("detector", "haar-face", f"{HAAR_FACE} is not in this opencv build")
        self.height = height
        self.min_face = min_face
        self._cascade = cv2.CascadeClassifier(str(path))

    def detect(self, frame: np.ndarray) -> Detections:
        gray, scale = _gray(frame, self.height)
        if min(gray.shape) < self.min_face:
            return Detections.empty()
        rects, _, weights = self._cascade.detectMultiScale3(
            gray, scaleFactor=1.15, minNeighbors=4, minSize=(self.min_face, self.min_face), outputRejectLevels=True
        )
        if len(rects) == 0:
            return Detections.empty()
        r = np.asarray(rects, dtype=np.float32)
        boxes = np.concatenate([r[:, :2], r[:, :2] + r[:, 2:4]], axis=1) / scale
        # The last stage's sum is ~0 at the cascade's own threshold and grows with certainty.
        return Detections(boxes, _logistic(np.ravel(weights)), ["face"] * len(r))


class YoloDetector:
    """An ultralytics YOLO checkpoint loaded from a local file (never downloaded)."""

    def __init__(self, path: str, imgsz: int = 640, conf: float = 0.1, device: str = "cpu"):
        ultralytics_env()
        from ultralytics import YOLO

        self.model = YOLO(path, task="detect")
        self.name = f"yolo:{Path(path).name}"
        self.imgsz, self.conf, self.device = imgsz, conf, device
        self.categories = tuple(self.model.names[i] for i in sorted(self.model.names))

    def detect(self, frame: np.ndarray) -> Detections:
        # ultralytics reads numpy images as BGR.
        result = self.model.predict(
            np.ascontiguousarray(frame[..., ::-1]), imgsz=self.imgsz, conf=self.conf, device=self.device, verbose=False
        )[0]
        boxes = result.boxes.cpu().numpy()
        labels = [self.categories[int(c)] for c in boxes.cls]
        return Detections(boxes.xyxy.astype(np.float32), boxes.conf.astype(np.float32), labels)


# ---- MediaPipe's SSD MobileNetV2 (Open Images V4) on LiteRT ----------------------------------------------
@dataclass(frozen=True)
class SsdAnchors:
    """SSD anchor layout, as MediaPipe's SsdAnchorsCalculator makes it (options of its OIDv4 graph)."""

    input_size: int = 300
    strides: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
    min_scale: float = 0.2
    max_scale: float = 0.95
    aspect_ratios: tuple[float, ...] = (1.0, 2.0, 0.5, 3.0, 0.3333)

    def scale(self, layer: int) -> float:
        n = len(self.strides)
        return self.min_scale + (self.max_scale - self.min_scale) * layer / (n - 1) if layer < n else 1.0

    def make(self) -> np.ndarray:
        """[N,4] (x_center, y_center, w, h) in [0, 1]: per layer, per cell row-major, per shape."""
        rows = []
        for layer, stride in enumerate(self.strides):
            cells = math.ceil(self.input_size / stride)
            s = self.scale(layer)
            if layer == 0:  # the lowest layer keeps three small boxes
                shapes = [(1.0, 0.1), (2.0, s), (0.5, s)]
            else:  # every ratio, plus a square between this layer's scale and the next one's
                shapes = [(r, s) for r in self.aspect_ratios] + [(1.0, math.sqrt(s * self.scale(layer + 1)))]
            boxes = [(size * math.sqrt(ratio), size / math.sqrt(ratio)) for ratio, size in shapes]
            for y in range(cells):
                for x in range(cells):
                    rows += [((x + 0.5) / cells, (y + 0.5) / cells, bw, bh) for bw, bh in boxes]
        return np.asarray(rows, np.float32)


class SsdOpenImages:
    """SSD MobileNetV2 trained on 24 Open Images V4 classes (person, car, cat, dog, laptop, chair, bottle,
    book, ...), the fp16 TFLite model of MediaPipe's Objectron, run with LiteRT (ai-edge-litert).

    The frame is stretched to 300x300 (as MediaPipe does; the model was trained that way), scaled to
    [-1, 1]; box offsets are decoded against the anchors (centre / 10, size exp(/ 5)); a class score is
    a sigmoid, background ignored; boxes of one class that overlap more than `nms_iou` are merged by NMS.

    Calibration: MediaPipe's own OIDv4 graph keeps a box at probability 0.4 (its FilterDetectionCalculator);
    the score reported is shifted in logit space so that 0.4 reads 0.5, the tracker's "confident"
    threshold (tracks.high_conf), as OpenCV's margins are squashed so their own threshold reads 0.5.
    """

    KEEP = 0.4  # the probability MediaPipe's graph keeps a box at

    def __init__(self, folder: str, min_score: float = 0.25, nms_iou: float = 0.45, threads: int = 0):
        from ai_edge_litert.interpreter import Interpreter

        root = Path(folder)
        names = (root / "labels.txt").read_text().splitlines()
        self.labels = [n.lower() for n in names]  # index 0 is the background ("???")
        self.categories = tuple(self.labels[1:])
        self.name = "mediapipe:ssd-mobilenetv2-oidv4"
        self.min_score, self.nms_iou = min_score, nms_iou
        threads = threads or min(4, os.cpu_count() or 1)
        self._net = Interpreter(model_path=str(root / "model.tflite"), num_threads=threads)
        self._net.allocate_tensors()
        self._input = self._net.get_input_details()[0]
        self._size = int(self._input["shape"][1])
        outputs = {o["name"]: o["index"] for o in self._net.get_output_details()}
        self._boxes = next(i for n, i in outputs.items() if "box" in n)
        self._scores = next(i for n, i in outputs.items() if "class" in n)
        self._anchors = SsdAnchors(input_size=self._size).make()

    def detect(self, frame: np.ndarray) -> Detections:
        h, w = frame.shape[:2]
        # INTER_AREA here, not `shrink`: averaging keeps small far-off people that bilinear sampling lost
        # (vtest: two pedestrians entering at the right edge were found 1 s later), for 7.8 ms a 720p frame.
        x = cv2.resize(frame[..., :3], (self._size, self._size), interpolation=cv2.INTER_AREA).astype(np.float32)
        self._net.set_tensor(self._input["index"], (x / 127.5 - 1.0)[None])
        self._net.invoke()
        raw = self._net.get_tensor(self._boxes)[0]
        probs = _logistic(self._net.get_tensor(self._scores)[0][:, 1:] - math.log(self.KEEP / (1 - self.KEEP)))
        best, score = probs.argmax(axis=1), probs.max(axis=1)
        keep = np.flatnonzero(score >= self.min_score)
        if not len(keep):
            return Detections.empty()
        a, r = self._anchors[keep], raw[keep]
        cx, cy = r[:, 1] / 10 * a[:, 2] + a[:, 0], r[:, 0] / 10 * a[:, 3] + a[:, 1]
        bw, bh = np.exp(r[:, 3] / 5) * a[:, 2], np.exp(r[:, 2] / 5) * a[:, 3]
        boxes = np.stack([(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h], axis=1)
        boxes = np.clip(boxes, 0, [w, h, w, h]).astype(np.float32)
        chosen = cv2.dnn.NMSBoxesBatched(
            [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes],
            score[keep].tolist(), best[keep].tolist(), self.min_score, self.nms_iou,
        )  # fmt: skip
        idx = np.asarray(chosen, int).reshape(-1)
        labels = [self.categories[best[keep][i]] for i in idx]
        return Detections(boxes[idx], score[keep][idx].astype(np.float32), labels)


class BlazeFace:
    """MediaPipe's BlazeFace full-range face detector (192x192 TFLite, faces up to ~5 m away), on LiteRT.

    The frame is letterboxed into a square (as MediaPipe does), scaled to [-1, 1]; 2,304 anchors, one per
    cell of a 48x48 grid, hold box offsets in input pixels; a score is a sigmoid. Boxes overlapping more
    than `nms_iou` are merged by NMS. Scores are the model's own; `min_score` is MediaPipe's 0.6, which
    the tracker's thresholds are met by a face it is sure of.
    """

    name = "mediapipe:blazeface-full-range"
    categories = ("face",)

    def __init__(self, path: str, min_score: float = 0.6, nms_iou: float = 0.3, threads: int = 0):
        from ai_edge_litert.interpreter import Interpreter

        self.min_score, self.nms_iou = min_score, nms_iou
        self._net = Interpreter(model_path=path, num_threads=threads or min(4, os.cpu_count() or 1))
        self._net.allocate_tensors()
        self._input = self._net.get_input_details()[0]
        self._size = int(self._input["shape"][1])
        outputs = sorted(self._net.get_output_details(), key=lambda o: -int(o["shape"][-1]))
        self._boxes, self._scores = outputs[0]["index"], outputs[1]["index"]
        cells = self._size // 4
        grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        self._anchors = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)  # (x, y), row-major

    def detect(self, frame: np.ndarray) -> Detections:
        h, w = frame.shape[:2]
        side = max(h, w)
        # Letterboxed to a square: the picture shrunk first, then padded (not a full-size square shrunk).
        sh, sw = max(1, round(h * self._size / side)), max(1, round(w * self._size / side))
        x = np.zeros((self._size, self._size, 3), np.float32)
        top, left = (self._size - sh) // 2, (self._size - sw) // 2
        x[top : top + sh, left : left + sw] = shrink(frame[..., :3], sw, sh)
        self._net.set_tensor(self._input["index"], (x / 127.5 - 1.0)[None])
        self._net.invoke()
        raw = self._net.get_tensor(self._boxes)[0]
        score = _logistic(np.clip(self._net.get_tensor(self._scores)[0][:, 0], -100, 100))
        keep = np.flatnonzero(score >= self.min_score)
        if not len(keep):
            return Detections.empty()
        r, a = raw[keep] / self._size, self._anchors[keep]
        cx, cy, bw, bh = r[:, 0] + a[:, 0], r[:, 1] + a[:, 1], r[:, 2], r[:, 3]
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1) * side
        boxes -= np.asarray([left, top, left, top], np.float32) * (side / self._size)  # the padding, in frame px
        boxes = np.clip(boxes, 0, [w, h, w, h]).astype(np.float32)
        chosen = cv2.dnn.NMSBoxes(
            [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes],
            score[keep].tolist(), self.min_score, self.nms_iou,
        )  # fmt: skip
        idx = np.asarray(chosen, int).reshape(-1)
        return Detections(boxes[idx], score[keep][idx].astype(np.float32), ["face"] * len(idx))


class Combined:
    """Several detectors on the same frame (e.g. HOG people + Haar faces)."""

    def __init__(self, parts: list[Detector]):
        self.parts = parts
        self.name = "+".join(p.name for p in parts)
        self.categories = tuple(c for p in parts for c in p.categories)

    def detect(self, frame: np.ndarray) -> Detections:
        out = Detections.empty()
        for part in self.parts:
            out = out + part.detect(frame)
        return out


def ultralytics_env() -> None:
    """ultralytics probes the network at import unless offline, and writes settings to its config dir."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(Path(tempfile.gettempdir()) / "videoagent-ultralytics"))


def locate_yolo(spec: str | None) -> str | None:
    """Local path of YOLO weights given by path or by file name in the current folder (as ultralytics
    resolves names); None when not on disk: ultralytics would download them, which we never do."""
    if not spec:
        return None
    path = Path(spec).expanduser()
    return str(path.resolve()) if path.is_file() else None


def opencv_detector_files() -> dict[str, str | None]:
    """Where this opencv build keeps each bundled detector (None: the build lacks it). The HOG people
    SVM is compiled into cv2 itself; the Haar cascade is an XML file in `cv2.data`."""
    cascade = Path(getattr(getattr(cv2, "data", None), "haarcascades", "")) / HAAR_FACE
    return {
        "hog-people": cv2.__file__ if hasattr(cv2, "HOGDescriptor") else None,
        "haar-face": str(cascade) if hasattr(cv2, "CascadeClassifier") and cascade.is_file() else None,
    }
