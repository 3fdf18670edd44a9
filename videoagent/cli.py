"""`videoagent ...`: the command line (typer). With --json, stdout carries exactly one JSON document;
progress and logs go to stderr. Exit codes: 0 success, 2 bad usage or bad input, 1 other failure."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from .config import index_dir, load_pipeline, load_profile

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)
err = Console(stderr=True, soft_wrap=True)  # one error, one line, however long
out = Console()

IndexOpt = Annotated[
    Path | None, typer.Option("--index", help="Index folder [default: $VIDEOAGENT_HOME or ./.videoagent]")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="Model profile: configs/NAME.yaml or a path")]


def _setup(verbose: bool = False) -> None:
    # Offline by construction: nothing may try the network behind the user's back.
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "YOLO_OFFLINE"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # weight-loading bars would flood stderr
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
    )
    for noisy in ("chromadb", "httpx", "faster_whisper", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _emit(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def _open_store(index: Path | None, must_exist: bool = True):
    from .store import Store

    root = index_dir(index)
    if must_exist and not (root / "catalog.sqlite").exists():
        _fail(f"{root}: no index here (run `videoagent ingest` first, or pass --index)")
    return Store(root)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Video files or folders")],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    profile: ProfileOpt = None,
    pipeline: Annotated[Path | None, typer.Option("--pipeline", help="Pipeline YAML")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Ingest videos into the index (resumable; a file already ingested is skipped)."""
    _setup(verbose)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .media import find_videos
    from .orchestrator import Ingestor

    missing = [p for p in paths if not p.exists()]
    for p in missing:
        err.print(f"[red]error:[/red] {p}: no such file or folder", highlight=False)
    if missing and len(paths) == 1:
        raise typer.Exit(2)
    try:
        prof, pipe = load_profile(profile), load_pipeline(pipeline)
    except ValueError as exc:
        _fail(str(exc))
    candidates, ignored = find_videos(p for p in paths if p.exists())
    store = _open_store(index, must_exist=False)
    results = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=not err.is_terminal,
    ) as progress:
        task = progress.add_task("ingest", total=len(candidates))
        ingestor = Ingestor(
            store,
            prof,
            pipe,
            on_stage=lambda path, stage: progress.update(task, description=f"{Path(path).name}: {stage}"),
        )
        for path in candidates:
            result = ingestor.ingest_one(path)
            results.append(result)
            if result.status == "failed":
                err.print(f"[red]failed:[/red] {result.error}", highlight=False)
            progress.advance(task)
    results += [_missing_result(p) for p in missing]

    doc = {
        "videos": [
            {
                "video_id": r.video_id,
                "path": r.path,
                "duration_s": r.duration_s,
                "status": r.status,
                "error": r.error,
                "segments": r.segments,
                "stages": r.stages,
            }
            for r in results
        ],
        "ignored": [str(p) for p in ignored],
    }
    _emit(doc, as_json)
    if not as_json:
        _print_ingest(results, ignored)
    if results and all(r.status == "failed" for r in results):
        raise typer.Exit(2)


def _missing_result(path: Path):
    from .orchestrator import VideoResult

    return VideoResult(path=str(path), status="failed", error=f"{path}: no such file or folder")


def _print_ingest(results, ignored) -> None:
    table = Table("status", "video_id", "file", "duration", "segments", "stages")
    for r in results:
        stages = ", ".join(f"{k} {v.split(':')[0]}" for k, v in r.stages.items())
        dur = f"{r.duration_s:.1f}s" if r.duration_s else ""
        table.add_row(
            r.status, r.video_id or "", Path(r.path).name, dur, str(len(r.segments)), stages or (r.error or "")
        )
    out.print(table)
    if ignored:
        out.print(f"ignored {len(ignored)} non-video file(s): " + ", ".join(Path(p).name for p in ignored))


@app.command()
def show(
    video_id: Annotated[str, typer.Argument(help="Video id (or a unique prefix)")],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show what the index knows about one video: segments, transcript, on-screen text."""
    _setup()
    store = _open_store(index)
    video = store.find_video(video_id)
    if video is None:
        _fail(f"{video_id}: no such video in {store.root} (or the prefix is ambiguous)")
    segments = store.segments(video["video_id"])
    doc = {
        "video_id": video["video_id"],
        "path": video["path"],
        "duration_s": video["duration_s"],
        "segments": [
            {
                "start_s": s.start_s,
                "end_s": s.end_s,
                "transcript": s.transcript,
                "ocr": s.ocr,
                "caption": s.caption,
                "tags": s.tags,
            }
            for s in segments
        ],
        "tracklets": [],
        "stages": store.stages(video["video_id"]),
    }
    _emit(doc, as_json)
    if not as_json:
        out.print(f"[bold]{video['video_id']}[/bold]  {video['path']}  {video['duration_s']:.1f}s")
        table = Table("start", "end", "transcript", "on-screen text")
        for s in segments:
            table.add_row(f"{s.start_s:.2f}", f"{s.end_s:.2f}", s.transcript, " | ".join(s.ocr))
        out.print(table)


@app.command()
def search(
    text: Annotated[str | None, typer.Argument(help="Text query")] = None,
    video: Annotated[Path | None, typer.Option("--video", help="Find videos like this video file")] = None,
    image: Annotated[Path | None, typer.Option("--image", help="Find segments like this image file")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many results")] = 10,
    video_id: Annotated[str | None, typer.Option("--video-id", help="Only segments of this video")] = None,
    profile: ProfileOpt = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the index: text -> segments, --video -> similar videos, --image -> segments."""
    _setup()
    from .media import MediaError
    from .models import Models
    from .retrieval import Retriever

    if sum(x is not None for x in (text, video, image)) != 1:
        _fail("give exactly one of: TEXT, --video PATH, --image PATH")
    store = _open_store(index)
    if video_id:
        found = store.find_video(video_id)
        if found is None:
            _fail(f"{video_id}: no such video in {store.root} (or the prefix is ambiguous)")
        video_id = found["video_id"]
    retriever = Retriever(store, Models.shared(load_profile(profile)))
    try:
        if text is not None:
            hits = retriever.search_text(text, top_k=top, video_id=video_id)
        elif video is not None:
            hits = retriever.search_video(video, top_k=top)
        else:
            hits = retriever.search_image(image, top_k=top, video_id=video_id)
    except MediaError as exc:
        _fail(str(exc))
    except RuntimeError as exc:
        _fail(str(exc), code=1)
    _emit({"results": [h.as_dict() for h in hits]}, as_json)
    if not as_json:
        table = Table("score", "video_id", "start", "end", "why")
        for h in hits:
            table.add_row(f"{h.score:.3f}", h.video_id, f"{h.start_s:.2f}", f"{h.end_s:.2f}", h.why)
        out.print(table)


@app.command()
def models(profile: ProfileOpt = None, index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Each model role of the profile: which model, where its weights are, present or missing."""
    _setup()
    try:
        from .models import roles as model_roles

        roles = model_roles(load_profile(profile))
    except ValueError as exc:
        _fail(str(exc))
    _emit({"roles": roles}, as_json)
    if not as_json:
        table = Table("role", "model", "present", "path")
        for r in roles:
            table.add_row(
                r["role"], r["model"] or "-", "yes" if r["present"] else "[red]missing[/red]", r["path"] or ""
            )
        out.print(table)


def main() -> None:  # pragma: no cover - console script entry
    app()
