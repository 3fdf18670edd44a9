"""The HTTP API and the web app over it (FastAPI): one index served to people and to other programs.

    videoagent serve --index DIR [--profile P] [--host 127.0.0.1] [--port 8000] [--media-root DIR]...

`/` is the web app (static files in `server/static/`, no build step); the API documents are the CLI's
--json documents, described at /docs. Errors are `{"detail": "..."}`: a `VideoAgentError` answers with
its `http_status` (404 for an unknown video, 400 for bad input — an unreadable upload is named by its file
name —, 409 when the profile cannot answer), 401 without the configured token, 413 for an upload over
the limit, 422 for a malformed request, 500 for anything else.

Requests run side by side: the read-only view gives each thread its own SQLite connection, the models
are safe to share, the LLM runtime serves one completion at a time, and a chat session answers one
question at a time. Ingest and tagging run as jobs on the one writer thread (server/jobs.py) with their own
catalog connection, so the index stays readable while they run; the view forgets what it cached each
time a video lands.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from ..config import Profile
from ..errors import BadInput, MediaError, NoSuchVideo, UnknownTracklet, VideoAgentError
from . import auth, media
from .jobs import Job, JobQueue
from .sessions import MAX_SESSIONS, SESSION_IDLE_S, Sessions

if TYPE_CHECKING:
    from ..library import Library

STATIC = Path(__file__).parent / "static"
UPLOAD_LIMIT_MB = 2048
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class AskRequest(BaseModel):
    video_id: str = Field(description="Video id or unique prefix")
    question: str = Field(min_length=1, max_length=2000)
    session: str | None = Field(
        None,
        max_length=200,
        description="Chat session id: follow-ups are read against the conversation so far "
        f"(kept for {SESSION_IDLE_S / 60:.0f} min unused, at most {MAX_SESSIONS} sessions)",
    )


class LoginRequest(BaseModel):
    token: str = Field(min_length=1, max_length=500)


class FolderJob(BaseModel):
    folder: str = Field(min_length=1, max_length=4096, description="A folder (or file) under a media root")


class TagJob(BaseModel):
    video_ids: list[str] = Field(default_factory=list, description="Videos to tag (empty: every video)")
    force: bool = False


def create_app(
    library: Library | str | Path,
    profile: Profile | None = None,
    *,
    token: str | None = None,
    media_roots: Sequence[str | Path] = (),
    upload_limit_mb: int = UPLOAD_LIMIT_MB,
) -> FastAPI:
    """The app over a Library (or an index folder opened with `profile`). With `token`, every API and media
    request needs it; `media_roots` are the folders the app may ingest from by name."""
    from ..library import Library

    lib = library if isinstance(library, Library) else Library(library, profile)
    lib.view  # noqa: B018 - the read-only view, opened now: NoIndex before the first request
    roots = [Path(r).expanduser().resolve() for r in media_roots]
    sessions = Sessions()
    sessions_lock = threading.Lock()
    app = FastAPI(title="videoagent", summary="Ask, search and browse one video index.")
    if token:
        auth.require_token(app, token)
    jobs = JobQueue(lib.root, {"ingest": _ingest_runner(lib), "tag": _tag_runner(lib)})
    app.state.jobs = jobs
    if not jobs.idle():
        jobs.start()  # jobs the last server left unfinished

    @app.exception_handler(VideoAgentError)
    def user_error(request: Request, exc: VideoAgentError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)

    # ---- the page ----------------------------------------------------------------------------
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/auth", include_in_schema=False)
    def auth_state(request: Request) -> dict[str, bool]:
        """Whether the page must ask for a token, and whether the one it holds is good."""
        return {"required": bool(token), "ok": not token or auth.matches(auth.presented(request), token)}

    @app.post("/login", status_code=204, include_in_schema=False)
    def login(body: LoginRequest) -> Response:
        if not token or not auth.matches(body.token, token):
            raise HTTPException(401, "wrong token")
        response = Response(status_code=204)
        response.set_cookie(auth.COOKIE, body.token, httponly=True, samesite="strict")
        return response

    @app.post("/logout", status_code=204, include_in_schema=False)
    def logout() -> Response:
        response = Response(status_code=204)
        response.delete_cookie(auth.COOKIE)
        return response

    # ---- videos ------------------------------------------------------------------------------
    @app.get("/videos")
    def videos(
        status: Annotated[str | None, Query(description="done, failed or ingesting (default: all)")] = None,
        tag: Annotated[str | None, Query(description="only videos with this tag")] = None,
    ) -> dict[str, Any]:
        rows = [_card(lib, v) for v in lib.videos(status)]
        if tag:
            rows = [r for r in rows if tag.lower() in (t.lower() for t in r["tags"])]
        return {"videos": rows}

    @app.get("/videos/{video_id}")
    def show(video_id: str) -> dict[str, Any]:
        doc = lib.show(video_id)
        doc["video_tags"] = lib.video_tags(doc["video_id"])
        return doc

    @app.get("/videos/{video_id}/media")
    def video_file(video_id: str) -> FileResponse:
        """The video itself; HTTP range requests let the player seek."""
        video = lib.video(video_id)
        return FileResponse(media.media_file(video), media_type=_media_type(video["path"]))

    @app.get("/videos/{video_id}/frame")
    def frame(
        video_id: str,
        t: Annotated[float, Query(ge=0, description="time in seconds")] = 0.0,
        width: Annotated[int, Query(ge=16, le=1920)] = 320,
    ) -> FileResponse:
        video = lib.video(video_id)
        path = media.thumbnail(lib.root, video, t, width)
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "max-age=86400"})

    @app.get("/videos/{video_id}/captions.vtt")
    def captions(video_id: str) -> PlainTextResponse:
        return PlainTextResponse(_export(video_id, "vtt"), media_type="text/vtt")

    @app.get("/videos/{video_id}/export")
    def export(video_id: str, format: Annotated[str, Query(pattern="^(srt|vtt|json)$")] = "json") -> Response:
        kinds = {"srt": "application/x-subrip", "vtt": "text/vtt", "json": "application/json"}
        return Response(_export(video_id, format), media_type=kinds[format])

    def _export(video_id: str, fmt: str) -> str:
        return lib.export(video_id, fmt)

    @app.get("/tracklets/{tracklet_id}/crop")
    def tracklet_crop(tracklet_id: str) -> FileResponse:
        found = lib.reader.tracklets(ids=[tracklet_id])
        if not found:
            raise UnknownTracklet(f"{tracklet_id}: no such tracklet")
        return FileResponse(media.crop(lib.root, found[0]), media_type="image/jpeg")

    # ---- search ------------------------------------------------------------------------------
    def search_upload(upload: UploadFile, kind: str, **query: Any) -> dict[str, Any]:
        """Search with the upload saved to a temporary file; a MediaError names the upload, not the file."""
        suffix = Path(upload.filename or "upload").suffix
        with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
            _copy_limited(upload, tmp, upload_limit_mb)
            tmp.flush()
            try:
                return lib.search(**{kind: tmp.name}, **query).as_dict()
            except MediaError as exc:
                raise MediaError(upload.filename or "upload", exc.reason) from None

    @app.get("/search")
    def search(
        q: Annotated[str, Query(min_length=1, max_length=2000, description="Text query")],
        top: Annotated[int, Query(ge=1, le=1000)] = 10,
        video_id: str | None = None,
    ) -> dict[str, Any]:
        return lib.search(q, top=top, video_id=video_id).as_dict()

    @app.post("/search/image")
    def search_image(
        image: Annotated[UploadFile, File()],
        top: Annotated[int, Query(ge=1, le=1000)] = 10,
        video_id: str | None = None,
    ) -> dict[str, Any]:
        if video_id:
            lib.video(video_id)  # 404 before reading the upload
        return search_upload(image, "image", top=top, video_id=video_id)

    @app.post("/search/video")
    def search_video(
        video: Annotated[UploadFile, File()], top: Annotated[int, Query(ge=1, le=1000)] = 10
    ) -> dict[str, Any]:
        return search_upload(video, "video", top=top)

    # ---- questions ---------------------------------------------------------------------------
    def agent_for(request: AskRequest):
        if not request.question.strip():
            raise BadInput("the question is empty")
        video_id = lib.video(request.video_id)["video_id"]
        with sessions_lock:
            return sessions.get(request.session, video_id, lambda: lib.chat(video_id))

    @app.post("/ask")
    def ask(request: AskRequest) -> dict[str, Any]:
        agent = agent_for(request)
        with agent.lock:  # one question at a time per chat session
            answer = agent.ask(request.question)
        return {**answer.as_dict(), "session": request.session}

    @app.post("/ask/stream")
    async def ask_stream(request: AskRequest) -> StreamingResponse:
        """The answer as server-sent events: `text` events with the model's words as it writes them (ids
        and all: the draft), then one `answer` event with the checked answer, or `error` with a detail."""
        agent = agent_for(request)  # 404 / 400 before the stream starts
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def put(kind: str, data: Any) -> None:
            loop.call_soon_threadsafe(events.put_nowait, (kind, data))

        def work() -> None:
            try:
                with agent.lock:
                    answer = agent.ask(request.question, on_text=lambda piece: put("text", piece))
                put("answer", {**answer.as_dict(), "session": request.session})
            except VideoAgentError as exc:
                put("error", {"detail": str(exc)})
            except Exception as exc:  # noqa: BLE001 - the stream has started: say so in it
                put("error", {"detail": f"{type(exc).__name__}: {exc}"})

        async def stream() -> AsyncIterator[str]:
            task = loop.run_in_executor(None, work)
            while True:
                kind, data = await events.get()
                yield f"event: {kind}\ndata: {json.dumps(data)}\n\n"
                if kind != "text":
                    break
            await task

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.delete("/sessions/{session}", status_code=204)
    def reset(session: str) -> None:
        """Forget a chat session (the chat's /reset)."""
        with sessions_lock:
            dropped = sessions.drop(session)
        if not dropped:
            raise HTTPException(404, f"no chat session {session!r}")

    # ---- jobs: ingest and tagging on the writer thread ----------------------------------------
    @app.post("/jobs/upload", status_code=202)
    def upload(files: Annotated[list[UploadFile], File()]) -> dict[str, Any]:
        """Upload videos and queue their ingest."""
        from ..media.probe import VIDEO_SUFFIXES

        folder = lib.root / "uploads" / uuid.uuid4().hex[:12]
        saved = []
        try:
            for f in files:
                name = _SAFE_NAME.sub("_", Path(f.filename or "upload").name).strip("._") or "upload"
                if Path(name).suffix.lower() not in VIDEO_SUFFIXES:
                    raise BadInput(
                        f"{f.filename}: not a video file name (expected {', '.join(sorted(VIDEO_SUFFIXES))})"
                    )
                folder.mkdir(parents=True, exist_ok=True)
                with open(folder / name, "wb") as out:
                    _copy_limited(f, out, upload_limit_mb)
                saved.append(str(folder / name))
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        if not saved:
            raise BadInput("no files in the upload")
        return jobs.submit("ingest", saved, {"uploaded": True}).as_dict()

    @app.post("/jobs/ingest", status_code=202)
    def ingest_folder(body: FolderJob) -> dict[str, Any]:
        """Queue the ingest of a folder or file under one of the server's media roots."""
        return jobs.submit("ingest", [str(_under_roots(body.folder, roots))]).as_dict()

    @app.post("/jobs/tag", status_code=202)
    def tag(body: TagJob) -> dict[str, Any]:
        ids = [lib.video(v)["video_id"] for v in body.video_ids]
        return jobs.submit("tag", ids, {"force": body.force}).as_dict()

    @app.get("/jobs")
    def job_list() -> dict[str, Any]:
        return {"jobs": [j.as_dict() for j in jobs.jobs()], "media_roots": [str(r) for r in roots]}

    @app.get("/jobs/events")
    async def job_events(request: Request) -> StreamingResponse:
        """Server-sent events: the job list each time a job changes (and a comment every 15 s to keep alive)."""

        async def stream() -> AsyncIterator[str]:
            seen = -1
            while not await request.is_disconnected():
                version, changed = await asyncio.to_thread(jobs.changes, seen, 15.0)
                if not changed:
                    yield ": idle\n\n"
                    continue
                seen = version
                yield f"event: jobs\ndata: {json.dumps([j.as_dict() for j in changed])}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/jobs/{job_id}")
    def job(job_id: str) -> dict[str, Any]:
        found = jobs.get(job_id)
        if found is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return found.as_dict()

    return app


def _card(lib: Library, video: dict[str, Any]) -> dict[str, Any]:
    """A listing row with what the library page shows: title, tags, the first keyframe's time."""
    vid = video["video_id"]
    done = video["status"] == "done"
    first = lib.view.segments(vid)[:1] if done else []  # the view caches them until an ingest lands
    return {
        **video,
        "title": lib.view.about(vid)["title"] if done else "",
        "tags": [t["tag"] for t in lib.video_tags(vid)],
        "thumb_s": (first[0].keyframes or [first[0].start_s])[0] if first else None,
    }


def _media_type(path: str) -> str:
    return {".webm": "video/webm", ".ogv": "video/ogg", ".mov": "video/quicktime"}.get(
        Path(path).suffix.lower(), "video/mp4"
    )


def _copy_limited(upload: UploadFile, out, limit_mb: int) -> None:
    """Copy an upload in pieces, refusing it (413) once it passes the limit."""
    total, limit = 0, limit_mb * 1024 * 1024
    while piece := upload.file.read(1 << 20):
        total += len(piece)
        if total > limit:
            raise HTTPException(413, f"{upload.filename}: larger than the upload limit of {limit_mb} MB")
        out.write(piece)


def _under_roots(name: str, roots: list[Path]) -> Path:
    if not roots:
        raise HTTPException(403, "this server has no media roots (start it with --media-root DIR)")
    path = Path(name).expanduser()
    candidates = [path.resolve()] if path.is_absolute() else [(r / path).resolve() for r in roots]
    for candidate in candidates:
        if any(candidate.is_relative_to(r) for r in roots):
            if not candidate.exists():
                raise NoSuchVideo(f"{name}: no such file or folder under the media roots")
            return candidate
    raise HTTPException(403, f"{name}: not under a media root ({', '.join(map(str, roots))})")


def _ingest_runner(lib: Library):
    """Ingest on the job thread with a Library of its own (its own catalog connection; the models are
    the process's); the reading view forgets its cache as each video lands."""

    def run(job: Job, report) -> list[dict[str, Any]]:
        from ..library import Library

        writer = Library(lib.root, lib.profile, lib.pipeline)
        current: dict[str, Any] = {"file": None, "done": 0}

        def on_stage(path: str, stage: str) -> None:
            current["file"] = path
            report(progress={**current, "stage": stage})

        def on_result(result) -> None:
            current["done"] += 1
            lib.view.forget()
            report(progress={**current, "stage": None}, result=result.as_dict())

        try:
            return [r.as_dict() for r in writer.ingest(job.paths, on_stage=on_stage, on_result=on_result)]
        finally:
            writer.close()

    return run


def _tag_runner(lib: Library):
    def run(job: Job, report) -> list[dict[str, Any]]:
        from ..library import Library

        writer = Library(lib.root, lib.profile, lib.pipeline)
        try:
            done = lambda tags: report(result=tags.as_dict())  # noqa: E731
            force = bool(job.options.get("force"))
            if job.paths:
                tagged = writer.tag(job.paths, force=force, on_done=done)
            else:
                tagged = writer.tag(all_videos=True, force=force, on_done=done)
            lib.view.forget()
            return [t.as_dict() for t in tagged.videos]
        finally:
            writer.close()

    return run
