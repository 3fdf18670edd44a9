"""The HTTP API (FastAPI): one index served to other programs — list, show, search, ask and chat.

    videoagent serve --index DIR [--profile P] [--host 127.0.0.1] [--port 8000]     # docs at /docs

A thin adapter over the Python API (library.py): documents are the CLI's --json documents. Errors are
`{"detail": "..."}`: a `VideoAgentError` answers with its `http_status` (404 for an unknown video, 400 for
bad input — an unreadable upload is named by its file name —, 409 when the profile cannot answer),
422 for a malformed request, 500 for anything else. The API only reads the index: ingest and tagging
stay with the CLI, because Chroma's embedded client is not safe with two writing processes. Models
load once; requests that run them take turns.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .config import Profile
from .errors import BadInput, MediaError, VideoAgentError

if TYPE_CHECKING:
    from .library import Library
    from .qa.agent import Agent

MAX_SESSIONS = 256  # chat sessions kept (least recently used dropped first)
SESSION_IDLE_S = 3600.0  # a session unused this long is forgotten


class Sessions:
    """Chat sessions by id, at most `limit` of them and none idle longer than `idle_s`: the least
    recently used go first. Not thread-safe on its own: the app holds its one lock around it."""

    def __init__(self, limit: int = MAX_SESSIONS, idle_s: float = SESSION_IDLE_S, clock=time.monotonic):
        self.limit, self.idle_s, self.clock = limit, idle_s, clock
        self._agents: OrderedDict[str, tuple[float, Agent]] = OrderedDict()

    def get(self, session: str, video_id: str, start: Callable[[], Agent]) -> Agent:
        """The session's agent when it is about `video_id`, else a new one (a session follows one video)."""
        self._expire()
        found = self._agents.get(session)
        agent = found[1] if found and found[1].video_id == video_id else start()
        self._agents[session] = (self.clock(), agent)
        self._agents.move_to_end(session)
        while len(self._agents) > self.limit:
            self._agents.popitem(last=False)
        return agent

    def drop(self, session: str) -> bool:
        self._expire()
        return self._agents.pop(session, None) is not None

    def __len__(self) -> int:
        self._expire()
        return len(self._agents)

    def _expire(self) -> None:
        now = self.clock()
        while self._agents and now - next(iter(self._agents.values()))[0] > self.idle_s:
            self._agents.popitem(last=False)


class AskRequest(BaseModel):
    video_id: str = Field(description="Video id or unique prefix")
    question: str = Field(min_length=1)
    session: str | None = Field(
        None,
        max_length=200,
        description="Chat session id: follow-ups are read against the conversation so far "
        f"(kept for {SESSION_IDLE_S / 60:.0f} min unused, at most {MAX_SESSIONS} sessions)",
    )


def create_app(library: Library | str | Path, profile: Profile | None = None) -> FastAPI:
    """The API over a Library (or an index folder opened with `profile`)."""
    from .library import Library

    lib = library if isinstance(library, Library) else Library(library, profile)
    lib.view  # noqa: B018 - the read-only view, opened now: NoIndex before the first request
    sessions = Sessions()
    turn = threading.Lock()  # torch models and the SQLite connection are used by one request at a time
    app = FastAPI(title="videoagent", summary="Ask, search and browse one video index.")

    @app.exception_handler(VideoAgentError)
    def user_error(request: Request, exc: VideoAgentError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)

    def search_upload(upload: UploadFile, kind: str, **query: Any) -> dict[str, Any]:
        """Search with the upload saved to a temporary file; a MediaError names the upload, not the file."""
        suffix = Path(upload.filename or "upload").suffix
        with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
            shutil.copyfileobj(upload.file, tmp)  # streamed: a video upload need not fit in memory
            tmp.flush()
            try:
                with turn:
                    return lib.search(**{kind: tmp.name}, **query).as_dict()
            except MediaError as exc:
                raise MediaError(upload.filename or "upload", exc.reason) from None

    @app.get("/videos")
    def videos() -> dict[str, Any]:
        with turn:
            return {"videos": lib.videos("done")}

    @app.get("/videos/{video_id}")
    def show(video_id: str) -> dict[str, Any]:
        with turn:
            return lib.show(video_id)

    @app.get("/search")
    def search(
        q: Annotated[str, Query(min_length=1, description="Text query")],
        top: Annotated[int, Query(ge=1, le=1000)] = 10,
        video_id: str | None = None,
    ) -> dict[str, Any]:
        with turn:
            return lib.search(q, top=top, video_id=video_id).as_dict()

    @app.post("/search/image")
    def search_image(
        image: Annotated[UploadFile, File()], top: int = 10, video_id: str | None = None
    ) -> dict[str, Any]:
        if video_id:
            with turn:
                lib.video(video_id)  # 404 before reading the upload
        return search_upload(image, "image", top=top, video_id=video_id)

    @app.post("/search/video")
    def search_video(video: Annotated[UploadFile, File()], top: int = 10) -> dict[str, Any]:
        return search_upload(video, "video", top=top)

    @app.post("/ask")
    def ask(request: AskRequest) -> dict[str, Any]:
        if not request.question.strip():
            raise BadInput("the question is empty")
        with turn:
            video_id = lib.video(request.video_id)["video_id"]
            start = lambda: lib.chat(video_id)  # noqa: E731
            agent = sessions.get(request.session, video_id, start) if request.session else start()
            answer = agent.ask(request.question)
        return {**answer.as_dict(), "session": request.session}

    @app.delete("/sessions/{session}", status_code=204)
    def reset(session: str) -> None:
        """Forget a chat session (the chat's /reset)."""
        with turn:
            if not sessions.drop(session):
                raise HTTPException(404, f"no chat session {session!r}")

    return app
