"""A video's segments as the answering model reads them: one line per scene, with an id, its span,
what is said, the text on screen and what the pictures show; and the same scene as plain evidence for the
support check and as the code quotes it when it states an answer itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from ..ingest.labels import BRIEF_MIN, BRIEF_MOST, implied_settings, labels_brief
from .planner import Citation

if TYPE_CHECKING:
    from ..index.store import SegmentRecord

SCORE = re.compile(r"\s\d+%")  # a label's score in a scene line: "dog 90%"

# Where a scene has speech or on-screen text, its words carry it and the classifier's weak guesses only
# mislead (dev: "crane 28%" for a rocket and "football helmet 20%" beside a face were stated as answers to
# absent questions); a silent scene keeps them, since its pixels are all there is ("bird 25%").
TOLD_LABEL_MIN = 0.3


class Label(NamedTuple):
    """A label a scene line shows: the classifier's class or kind, or the detector's category."""

    name: str
    score: float
    count: int = 1  # the most boxes the detector found in one frame (1 for the classifier's labels)
    general: bool = False  # a more specific label of the scene stands for it ("animal" beside "dog")


def shown_labels(labels: list[dict], told: bool = False) -> tuple[Label, ...]:
    """The labels a scene line shows (`seen_text`), as data."""
    rows = [r for r in labels if r["score"] >= (TOLD_LABEL_MIN if told else BRIEF_MIN)][:BRIEF_MOST]
    return tuple(Label(r["label"], float(r["score"]), int(r.get("count", 1)), bool(r.get("general"))) for r in rows)


def shown_settings(labels: list[dict], told: bool = False) -> tuple[Label, ...]:
    """The settings a scene line shows (a silent scene's only), as data."""
    rows = [] if told else [r for r in implied_settings(labels) if r["score"] >= BRIEF_MIN]
    return tuple(Label(r["label"], float(r["score"])) for r in rows)


def seen_text(caption: str | None, labels: list[dict], told: bool = False) -> str:
    """A segment's caption and its labels as a scene line shows them: "animal 95%, dog 90%, person x4 68%"
    (the general kinds too: they tell a small model that a dog is an animal). A `told` scene (one with speech
    or on-screen text) shows only the labels of at least TOLD_LABEL_MIN; a silent one adds the settings they
    imply ("setting: underwater 39%" from a grey whale: the classifier has no class for the sea itself). Beside
    speech, on dev, settings only stirred the model: two answers went wrong ("street" by a garage's moped)."""
    parts = [(caption or "").strip(), labels_brief(labels, min_score=TOLD_LABEL_MIN if told else BRIEF_MIN)]
    if implied := shown_settings(labels, told):
        parts.append("setting: " + ", ".join(f"{r.name} {r.score:.0%}" for r in implied))
    return "; ".join(p for p in parts if p)


@dataclass(frozen=True)
class Scene:
    """One segment as the model reads it."""

    sid: str
    start_s: float
    end_s: float
    said: str
    on_screen: tuple[str, ...] = ()
    seen: str = ""  # what the pictures show: a caption, the classifier's and detector's labels
    shot: int | None = None  # the shot it is part of (a long shot is several segments); None: not known
    labels: tuple[Label, ...] = ()  # the labels `seen` shows, as data
    settings: tuple[Label, ...] = ()  # the settings `seen` shows ("underwater"), as data

    def line(self) -> str:
        parts = [f"[{self.sid}] {clock(self.start_s)}-{clock(self.end_s)}"]
        if self.said:
            parts.append(f'said: "{self.said}"')
        if self.on_screen:
            parts.append("on screen: " + "; ".join(f'"{t}"' for t in self.on_screen))
        if self.seen:
            parts.append(f"seen: {self.seen}")
        if len(parts) == 1:
            parts.append("nothing said or written")
        return " | ".join(parts)

    def text(self) -> str:
        """The scene's evidence as plain text, for the support check: the labels without their scores (the
        "92" of "coffee 92%" is how sure the classifier is, not a number the video gives: "the coffee costs
        $92" must not pass as backed)."""
        implied = "countdown" if counts_down(self.said) else ""  # "3, 2, 1." is what a countdown is
        return " ".join([self.said, *self.on_screen, SCORE.sub("", self.seen), implied]).strip()

    def cite(self, video_id: str) -> Citation:
        return Citation(video_id, self.start_s, self.end_s)


_NUMBER_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())}
_NUMBERS = re.compile(r"\b(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")\b", re.I)


def counts_down(said: str) -> bool:
    """Whether the words count down: three or more numbers in a row, each one less than the last ("3, 2, 1")."""
    values = [int(n) if n.isdigit() else _NUMBER_WORDS[n.lower()] for n in _NUMBERS.findall(said)]
    run = 1
    for before, after in zip(values, values[1:], strict=False):
        run = run + 1 if after == before - 1 else 1
        if run >= 3:
            return True
    return False


def scene_list(segments: Sequence[SegmentRecord]) -> list[Scene]:
    """A video's segments as the model reads them: S1, S2, ... with what is said, written and seen."""
    scenes = []
    for i, s in enumerate(segments, start=1):
        told = bool(s.transcript.strip() or s.ocr)
        seen, labels, settings = (
            seen_text(s.caption, s.seen, told),
            shown_labels(s.seen, told),
            shown_settings(s.seen, told),
        )
        said = s.transcript.strip()
        scenes.append(Scene(f"S{i}", s.start_s, s.end_s, said, tuple(s.ocr), seen, s.shot, labels, settings))
    return scenes


def clock(seconds: float) -> str:
    """0:08 style, with tenths when the time is not a whole second."""
    whole = int(seconds)
    tenths = round((seconds - whole) * 10)
    if tenths == 10:
        whole, tenths = whole + 1, 0
    text = f"{whole // 60}:{whole % 60:02d}"
    return f"{text}.{tenths}" if tenths else text


def quote(scene: Scene, lead: str | None = None) -> str:
    """A scene's lines as the code states them: what is said, the text on screen, what is seen. The lead
    says which comes first: 'It says "Lift off."', 'It shows on screen: "CAT CAFE OPEN", cat 80%'."""
    lead = ("It says " if scene.said else "It shows ") if lead is None else lead
    parts = [
        p
        for p in (
            scene.said and f'"{scene.said}"',
            scene.on_screen and "on screen: " + "; ".join(f'"{t}"' for t in scene.on_screen),
            scene.seen,
        )
        if p
    ]
    if not parts:
        return "Nothing is said or written in that scene, and nothing in it was recognised."
    text = lead + ", ".join(parts)
    return text if text.endswith(('."', '!"', '?"')) else text + "."
