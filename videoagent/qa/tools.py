"""The planner's tools: the read-only index view's methods as LangChain tools (validated arguments).

Transcripts and on-screen text are returned as data inside JSON, never spliced into instructions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field, model_validator

from ..index.view import IndexView


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str  # what the LLM reads; the grounded planner also scores requests against it


TOOL_SPECS = {
    t.name: t
    for t in (
        ToolSpec("search_segments", "Search the video for the scenes that best match a text query."),
        ToolSpec("get_transcript", "Get the spoken words: what people say, the narration and the dialogue."),
        ToolSpec("get_ocr", "Get the on-screen text: written words, signs, titles, captions, labels and dates."),
        ToolSpec(
            "list_tracklets",
            "List the tracked objects: how many people, cars or animals appear, where they move and when.",
        ),
        ToolSpec("video_info", "Get facts about the video file: how long it is, its size and its number of scenes."),
        ToolSpec("describe_segment", "Describe what is visible in a scene: the objects, the setting and the action."),
    )
}


# ---- LangChain tools (validated arguments) -------------------------------------------------------


class _Span(BaseModel):
    video: str = Field(description="video id (or a unique prefix)")
    start_s: float | None = Field(None, ge=0, description="from this time, in seconds")
    end_s: float | None = Field(None, ge=0, description="up to this time, in seconds")

    @model_validator(mode="after")
    def _ordered(self) -> _Span:
        if self.start_s is not None and self.end_s is not None and self.end_s < self.start_s:
            raise ValueError("end_s must not be before start_s")
        return self


class _Search(BaseModel):
    query: str = Field(min_length=1, description="what to look for")
    video: str = Field(description="video id (or a unique prefix)")


class _Tracklets(_Span):
    category: str | None = Field(None, description="e.g. person, car, dog")


class _Video(BaseModel):
    video: str = Field(description="video id (or a unique prefix)")


def langchain_tools(view: IndexView, video_id: str) -> list[StructuredTool]:
    """The tools for one video as LangChain tools; results are JSON data for the model to read."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., str]:
        def run(video: str, **kwargs: Any) -> str:
            with view.lock:
                vid = view.video(video)["video_id"]
                return json.dumps({"data": fn(video_id=vid, **kwargs)}, ensure_ascii=False)

        return run

    schemas: dict[str, tuple[Callable[..., Any], type[BaseModel]]] = {
        "search_segments": (view.search_segments, _Search),
        "get_transcript": (view.get_transcript, _Span),
        "get_ocr": (view.get_ocr, _Span),
        "list_tracklets": (view.list_tracklets, _Tracklets),
        "video_info": (view.video_info, _Video),
    }
    if view.has_captions(video_id):  # only when a captioner (or trained Q-Former) wrote captions
        schemas["describe_segment"] = (view.describe_segment, _Span)
    tools = [
        StructuredTool.from_function(wrap(fn), name=name, args_schema=schema, description=TOOL_SPECS[name].description)
        for name, (fn, schema) in schemas.items()
    ]
    return tools
