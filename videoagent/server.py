"""The HTTP API (FastAPI): one index served to other programs — list, show, search, ask and chat.

    videoagent serve --index DIR [--profile P] [--host 127.0.0.1] [--port 8000]     # docs at /docs

Documents are the CLI's --json documents. Errors are `{"detail": "..."}`: 404 for an unknown video,
400 for bad input (an unreadable upload is named by its file name), 422 for a malformed request.
The API only reads the index: ingest and tagging stay with the CLI, because Chroma's embedded client
is not safe with two writing processes. Models load once; requests that run them take turns.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, HTTPException, Query, UploadFile
from pydantic import BaseModel, Field

from .config import Profile
from .media.probe import MediaError

MAX_SESSIONS = 256  # chat sessions kept (least recently used dropped first)


class AskRequest(BaseModel):
    video_id: str = Field(description="Video id or unique prefix")
    question: str = Field(min_length=1)
    session: str | None = Field(None, description="Chat session id: follow-ups resolve against its last answer")


def create_app(index: str | Path, profile: Profile) -> FastAPI:
    from .index.view import IndexView, NoSuchVideo
    from .models.registry import Models
    from .qa.agent import Agent, open_agent

    # The read-only view's catalog connection: writes fail, and it may be used from the server's threads.
    view = IndexView(index, Models.shared(profile))
    store, retriever = view.store, view.retriever
    sessions: OrderedDict[str, Agent] = OrderedDict()
    turn = threading.Lock()  # torch models and the SQLite connection are used by one request at a time
    app = FastAPI(title="videoagent", summary="Ask, search and browse one video index.")

    def video_id_of(prefix: str) -> str:
        found = store.find_video(prefix)
        if found is None:
            raise HTTPException(404, f"{prefix}: no such video in {store.root} (or the prefix is ambiguous)")
        return found["video_id"]

    def results(hits) -> dict[str, Any]:
        return {"results": [h.as_dict() for h in hits], "warnings": retriever.warnings}

    def search_upload(upload: UploadFile, run) -> dict[str, Any]:
        """Run `run(path)` on the upload saved to a temporary file; a MediaError names the upload."""
        suffix = Path(upload.filename or "upload").suffix
        with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
            shutil.copyfileobj(upload.file, tmp)  # streamed: a video upload need not fit in memory
            tmp.flush()
            try:
                with turn:
                    return results(run(tmp.name))
            except MediaError as exc:
                raise HTTPException(400, f"{upload.filename}: {exc.reason}") from None
            except RuntimeError as exc:  # e.g. no frame encoder in this profile
                raise HTTPException(400, str(exc)) from None

    @app.get("/videos")
    def videos() -> dict[str, Any]:
        with turn:
            return {"videos": store.listing("done")}

    @app.get("/videos/{video_id}")
    def show(video_id: str) -> dict[str, Any]:
        with turn:
            return store.describe(video_id_of(video_id))

    @app.get("/search")
    def search(
        q: Annotated[str, Query(min_length=1, description="Text query")],
        top: Annotated[int, Query(ge=1, le=1000)] = 10,
        video_id: str | None = None,
    ) -> dict[str, Any]:
        with turn:
            only = video_id_of(video_id) if video_id else None
            return results(retriever.search_text(q, top_k=top, video_id=only))

    @app.post("/search/image")
    def search_image(
        image: Annotated[UploadFile, File()], top: int = 10, video_id: str | None = None
    ) -> dict[str, Any]:
        only = video_id_of(video_id) if video_id else None
        return search_upload(image, lambda path: retriever.search_image(path, top_k=top, video_id=only))

    @app.post("/search/video")
    def search_video(video: Annotated[UploadFile, File()], top: int = 10) -> dict[str, Any]:
        return search_upload(video, lambda path: retriever.search_video(path, top_k=top))

    @app.post("/ask")
    def ask(request: AskRequest) -> dict[str, Any]:
        with turn:
            agent = sessions.get(request.session) if request.session else None
            if agent is None or agent.video_id != video_id_of(request.video_id):
                try:
                    agent = open_agent(store.root, profile, request.video_id)
                except NoSuchVideo as exc:
                    raise HTTPException(404, str(exc)) from None
            if request.session:
                sessions[request.session] = agent
                sessions.move_to_end(request.session)
                while len(sessions) > MAX_SESSIONS:
                    sessions.popitem(last=False)
            answer = agent.ask(request.question)
        return {**answer.as_dict(), "session": request.session}

    return app
