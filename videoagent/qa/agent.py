"""A question-answering session about one video: the planner the profile calls for, plus history.

`Agent.ask` answers one question. With the answering planner (instruction-tuned models) the conversation
goes to the model as chat turns, and "after that" means after the scenes the last answer cited
(qa/answerer.py). The grounded planner of the tiny models cannot read a conversation: for it a
follow-up such as "and what happens after that?" is resolved against the previous answer's cited time
span: a question with nothing else in it gets the next (or previous) scene, one that asks something
more is answered from that part of the video only.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Profile
from ..errors import ConfigError
from ..index.view import IndexView
from . import forms
from .answerer import AnsweringPlanner
from .planner import Answer, Citation, GroundedPlanner

_AFTER = re.compile(r"\b(after (that|this|it)|afterwards|then|next|later)\b", re.I)
_BEFORE = re.compile(r"\b(before (that|this|it)|earlier|previously)\b", re.I)
_FILLER = set(
    "and so ok okay what whats what's happens happened happen comes come is was does did do then next after before "
    "that this it afterwards later earlier previously right there the a an".split()
)


@dataclass
class Turn:
    question: str
    answer: Answer


@dataclass
class Agent:
    """One chat session about one video."""

    planner: Any  # AnsweringPlanner | GroundedPlanner | tool_agent.ToolCallingPlanner
    view: IndexView
    video_id: str
    history: list[Turn] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)  # one ask at a time

    def reset(self) -> None:
        """Forget the conversation (the chat's /reset)."""
        self.history.clear()

    def ask(self, question: str, on_text: Callable[[str], None] | None = None) -> Answer:
        """The answer; `on_text` receives the answering model's draft as it writes it (other planners: the
        answer, once)."""
        started = time.perf_counter()
        question = forms.plain(question)  # "what's", "isn't": every part below reads one wording
        if isinstance(self.planner, AnsweringPlanner):
            past = [(t.question, t.answer) for t in self.history]
            answer = self.planner.ask(self.video_id, question, past, on_text=on_text)
            answer.steps.append({"tool": "timing", "seconds": round(time.perf_counter() - started, 3)})
            self.history.append(Turn(question, answer))
            return answer
        window, direction = self._follow_up(question)
        if window is not None and _only_follow_up(question):
            answer = self._neighbour(direction)
        elif isinstance(self.planner, GroundedPlanner):
            answer = self.planner.ask(self.video_id, question, window)
        else:
            past = [(t.question, t.answer.answer) for t in self.history]
            answer = self.planner.ask(self.video_id, question, window, history=past)
        if on_text is not None:
            on_text(answer.answer)
        if window is not None:
            answer.steps.insert(0, {"tool": "resolve_follow_up", "direction": direction, "window": list(window)})
        answer.steps.append({"tool": "timing", "seconds": round(time.perf_counter() - started, 3)})
        self.history.append(Turn(question, answer))
        return answer

    def _follow_up(self, question: str) -> tuple[tuple[float, float] | None, str]:
        last = next((t.answer for t in reversed(self.history) if t.answer.citations), None)
        if last is None:
            return None, ""
        start = min(c.start_s for c in last.citations)
        end = max(c.end_s for c in last.citations)
        if _AFTER.search(question):
            return (end, self.view.video_info(self.video_id)["duration_s"]), "after"
        if _BEFORE.search(question):
            return (0.0, start), "before"
        return None, ""

    def _neighbour(self, direction: str) -> Answer:
        """The scene right after (or before) the previous answer's span, told from its evidence."""
        last = next(t.answer for t in reversed(self.history) if t.answer.citations)
        start, end = min(c.start_s for c in last.citations), max(c.end_s for c in last.citations)
        segs = self.view.segments(self.video_id)
        pick = (
            next((s for s in segs if s.start_s >= end - 1e-6), None)
            if direction == "after"
            else next((s for s in reversed(segs) if s.end_s <= start + 1e-6), None)
        )
        if pick is None:
            where = "end" if direction == "after" else "start"
            return Answer(f"Nothing: that was the {where} of the video.", [], [], found=False)
        said = pick.transcript.strip()
        shown = "; ".join(pick.ocr)
        parts = [p for p in (said and f'"{said}"', shown and f'on screen: "{shown}"') if p]
        what = ", ".join(parts) if parts else "no speech or on-screen text was found there"
        text = f"{direction.capitalize()} that, at {pick.start_s:.1f}-{pick.end_s:.1f} s: {what}."
        return Answer(
            text,
            [Citation(self.video_id, pick.start_s, pick.end_s)],
            [
                {
                    "tool": "get_transcript",
                    "args": {"video": self.video_id, "start_s": pick.start_s, "end_s": pick.end_s},
                }
            ],
        )


def _only_follow_up(question: str) -> bool:
    words = re.findall(r"[\w']+", question.lower())
    return all(w in _FILLER for w in words)


def open_agent(index: str | Path | IndexView, profile: Profile, video: str) -> Agent:
    """An agent over `video` (id or unique prefix) in an index (its folder, or a read-only view of it),
    with the profile's LLM. NoSuchVideo when the index has no such done video."""
    from ..models.registry import Models
    from .llm import LocalChatModel

    models = Models.shared(profile)
    view = index if isinstance(index, IndexView) else IndexView(index, models)
    video_id = view.video(video)["video_id"]
    llm = models.llm()
    kind = profile.llm.planner
    if kind == "auto":
        kind = "grounded" if isinstance(llm, LocalChatModel) else "answer"

    def similarity(q: str, texts: list[str]) -> list[float]:  # the text encoder loads on first use
        encoder = models.text_encoder()
        return (encoder.encode(texts) @ encoder.encode([q])[0]).tolist()

    if kind == "answer":
        planner: Any = AnsweringPlanner(llm, view, similarity=similarity, context_tokens=profile.llm.context)
    elif kind == "grounded":
        if not isinstance(llm, LocalChatModel):
            raise ConfigError(f"llm: the grounded planner needs a local model, not the {profile.llm.backend} backend")
        planner = GroundedPlanner(llm, view, cutoff=profile.llm.cutoff, similarity=similarity)
    else:
        from .tool_agent import ToolCallingPlanner

        planner = ToolCallingPlanner(llm, view)
    return Agent(planner, view, video_id)
