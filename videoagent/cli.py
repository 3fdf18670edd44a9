"""`videoagent ...`: the command line (typer). With --json, stdout carries exactly one JSON document;
progress and logs go to stderr. Exit codes: 0 success, 2 bad usage or bad input, 1 other failure."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from .config import index_dir, load_pipeline, load_profile, use_offline_env

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)
err = Console(stderr=True, soft_wrap=True)  # one error, one line, however long
out = Console()

IndexOpt = Annotated[
    Path | None, typer.Option("--index", help="Index folder [default: $VIDEOAGENT_HOME or ./.videoagent]")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="Model profile: configs/NAME.yaml or a path")]
ExecutorOpt = Annotated[
    str, typer.Option("--executor", help="local, or ray: Ray actors ($RAY_ADDRESS or a local cluster)")
]


def _setup(verbose: bool = False) -> None:
    use_offline_env()
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


def _progress():
    """A progress bar on stderr (stdout stays free for --json)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=not err.is_terminal,
    )


def _open_store(index: Path | None, must_exist: bool = True):
    from .index.store import Store

    root = index_dir(index)
    if must_exist and not (root / "catalog.sqlite").exists():
        _fail(f"{root}: no index here (run `videoagent ingest` first, or pass --index)")
    return Store(root)


def _find_video(store, prefix: str) -> dict[str, Any]:
    """The done video with this id or unique id prefix; a clear error (exit 2) otherwise."""
    found = store.find_video(prefix)
    if found is None:
        _fail(f"{prefix}: no such video in {store.root} (or the prefix is ambiguous)")
    return found


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Video files or folders")],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    profile: ProfileOpt = None,
    pipeline: Annotated[Path | None, typer.Option("--pipeline", help="Pipeline YAML")] = None,
    executor: ExecutorOpt = "local",
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Ingest videos into the index (resumable; a file already ingested is skipped)."""
    if executor not in ("local", "ray"):
        _fail(f"--executor {executor}: expected local or ray")
    _setup(verbose)
    from .ingest.pipeline import Ingestor
    from .media.probe import find_videos

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
    with _progress() as progress:
        task = progress.add_task("ingest", total=len(candidates))
        ingestor = Ingestor(
            store,
            prof,
            pipe,
            on_stage=lambda path, stage: progress.update(task, description=f"{Path(path).name}: {stage}"),
        )

        def done(result) -> None:
            results.append(result)
            if result.status == "failed":
                err.print(f"[red]failed:[/red] {result.error}", highlight=False)
            progress.advance(task)

        if executor == "ray":
            from .scaleout import ray_ingest

            progress.update(task, description="ingest (ray)")
            ray_ingest(store, prof, pipe, candidates, on_result=done)
        else:
            for path in candidates:
                done(ingestor.ingest_one(path))
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
    from .ingest.pipeline import VideoResult

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


@app.command("list")
def list_videos(
    index: IndexOpt = None,
    status: Annotated[str | None, typer.Option(help="Only videos with this status: done | failed | ingesting")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the videos in the index: id, duration, scenes, status; a failed ingest says why."""
    _setup()
    if status not in (None, "done", "failed", "ingesting"):
        _fail(f"--status {status}: expected done, failed or ingesting")
    rows = _open_store(index).listing(status)
    _emit({"videos": rows}, as_json)
    if not as_json:
        table = Table("video_id", "duration", "scenes", "status", "path")
        for r in rows:
            state = r["status"] if r["status"] != "failed" else f"[red]failed[/red]: {r['error']}"
            table.add_row(r["video_id"], f"{r['duration_s'] or 0:.1f}s", str(r["segments"]), state, r["path"])
        out.print(table)


@app.command()
def show(
    video_id: Annotated[str, typer.Argument(help="Video id (or a unique prefix)")],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show what the index knows about one video: segments, transcript, on-screen text."""
    _setup()
    store = _open_store(index)
    video = _find_video(store, video_id)
    segments = store.segments(video["video_id"])
    doc = store.describe(video["video_id"])
    _emit(doc, as_json)
    if not as_json:
        out.print(f"[bold]{video['video_id']}[/bold]  {video['path']}  {video['duration_s']:.1f}s")
        captioned = any(s.caption for s in segments)
        table = Table("start", "end", "transcript", "on-screen text", *(["caption"] if captioned else []))
        for s in segments:
            extra = [s.caption or ""] if captioned else []
            table.add_row(f"{s.start_s:.2f}", f"{s.end_s:.2f}", s.transcript, " | ".join(s.ocr), *extra)
        out.print(table)
        _print_tracklets(doc["tracklets"])


def _print_tracklets(records: list[dict[str, Any]], scores: list[float] | None = None) -> None:
    """ChatVideo's tracklet table: id, category, appearance, action/motion, trajectory, speech."""
    from .index.tracklets import describe

    if not records:
        return
    columns = ["id", "category", "time", "appearance", "motion", "trajectory", "speech"]
    table = Table(*(["score"] if scores else []), *columns)
    for i, rec in enumerate(records):
        row = describe(rec)
        table.add_row(*([f"{scores[i]:.3f}"] if scores else []), *(row[c] for c in columns))
    out.print(table)


@app.command()
def tracklets(
    video_id: Annotated[str | None, typer.Argument(help="Video id or unique prefix [default: every video]")] = None,
    category: Annotated[str | None, typer.Option("--category", help="e.g. person, face")] = None,
    start: Annotated[float | None, typer.Option("--start", help="Only tracklets in view after this time (s)")] = None,
    end: Annotated[float | None, typer.Option("--end", help="Only tracklets in view before this time (s)")] = None,
    enters: Annotated[str | None, typer.Option("--enters", help="left|right|top|bottom|inside")] = None,
    exits: Annotated[str | None, typer.Option("--exits", help="left|right|top|bottom|inside")] = None,
    count: Annotated[bool, typer.Option("--count", help="Only count the distinct tracklets that match")] = False,
    like: Annotated[str | None, typer.Option("--like", help="Tracklets that look like this tracklet id")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many --like results")] = 10,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List, filter and count a video's tracklets, or find tracklets that look alike across videos."""
    _setup()
    from .index.tracklets import SIDES, TrackletQuery, similar

    for name, side in (("--enters", enters), ("--exits", exits)):
        if side is not None and side not in SIDES:
            _fail(f"{name} {side}: expected one of {', '.join(SIDES)}")
    store = _open_store(index)
    if video_id is not None:
        video_id = _find_video(store, video_id)["video_id"]
    query = TrackletQuery(video_id, category, start, end, enters, exits)
    if like is not None:
        try:
            hits = similar(store, like, query, top)
        except KeyError as exc:
            _fail(str(exc.args[0]))
        _emit({"results": [{**rec, "score": score} for rec, score in hits]}, as_json)
        if not as_json:
            _print_tracklets([rec for rec, _ in hits], [score for _, score in hits])
        return
    found_records = [rec for rec in store.tracklets(video_id, category) if query.matches(rec)]
    if count:
        _emit({"count": len(found_records), "video_id": video_id, "category": category}, as_json)
        if not as_json:
            out.print(len(found_records))
        return
    _emit({"tracklets": found_records}, as_json)
    if not as_json:
        _print_tracklets(found_records)


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
    from .index.retrieval import Retriever
    from .media.probe import MediaError
    from .models.registry import Models

    if sum(x is not None for x in (text, video, image)) != 1:
        _fail("give exactly one of: TEXT, --video PATH, --image PATH")
    store = _open_store(index)
    if video_id:
        video_id = _find_video(store, video_id)["video_id"]
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
    _emit({"results": [h.as_dict() for h in hits], "warnings": retriever.warnings}, as_json)
    for warning in retriever.warnings:  # e.g. a collection whose temporal checkpoint is gone
        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    if not as_json:
        table = Table("score", "video_id", "start", "end", "why")
        for h in hits:
            table.add_row(f"{h.score:.3f}", h.video_id, f"{h.start_s:.2f}", f"{h.end_s:.2f}", h.why)
        out.print(table)


@app.command()
def tag(
    video_ids: Annotated[list[str] | None, typer.Argument(help="Video ids (or unique prefixes)")] = None,
    all_videos: Annotated[bool, typer.Option("--all", help="Every video in the index")] = False,
    tags: Annotated[Path | None, typer.Option("--tags", help="Tag library .csv/.yaml/.txt [default: shipped]")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="At most this many tags per video")] = 10,
    min_score: Annotated[float, typer.Option("--min-score", help="Calibrated score a tag needs")] = 0.5,
    ranker: Annotated[Path | None, typer.Option("--ranker", help="Fitted ranker JSON (tools/eval_tagging.py)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Re-tag videos already tagged with this library")] = False,
    export: Annotated[Path | None, typer.Option("--export", help="Also write results to .jsonl or .csv")] = None,
    executor: ExecutorOpt = "local",
    profile: ProfileOpt = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tag videos from a tag library by recall-then-rank (resumable: videos already tagged are skipped)."""
    _setup()
    from .models.registry import Models
    from .tagging.library import TagLibrary
    from .tagging.ranker import Ranker
    from .tagging.tagger import Tagger, TagOptions
    from .tagging.tagger import export as export_results

    if bool(video_ids) == all_videos:
        _fail("give VIDEO_ID... or --all (not both)")
    if executor not in ("local", "ray"):
        _fail(f"--executor {executor}: expected local or ray")
    if export is not None and export.suffix.lower() not in (".jsonl", ".csv"):
        _fail(f"{export}: --export writes .jsonl or .csv")
    try:
        library = TagLibrary.load(tags) if tags else TagLibrary.default()
        fused = Ranker.load(ranker) if ranker else None
        prof = load_profile(profile)
    except ValueError as exc:
        _fail(str(exc))
    store = _open_store(index)
    videos = {v["video_id"]: v for v in store.videos()}
    if all_videos:
        ids = list(videos)
    else:
        ids = [_find_video(store, prefix)["video_id"] for prefix in video_ids]
    tagger = Tagger(store, Models.shared(prof), library, TagOptions(top_k=top, min_score=min_score), fused)
    with _progress() as progress:
        task = progress.add_task(f"tag library: {len(library)} tags", total=len(ids))
        channels = tagger.plan.channels  # builds the library's embeddings once per index
        progress.update(task, description=f"tag ({executor})")
        results = tagger.tag(ids, force=force, executor=executor, on_done=lambda r: progress.advance(task))
    for r in results:
        if r.status == "failed":
            err.print(f"[red]failed:[/red] {r.error}", highlight=False)
    paths = {vid: v["path"] for vid, v in videos.items()}
    if export is not None:
        export_results(results, paths, export)
    doc = {
        "library": {"source": library.source, "version": library.version, "tags": len(library)},
        "channels": channels,
        "videos": [{**r.as_dict(), "path": paths.get(r.video_id)} for r in results],
    }
    _emit(doc, as_json)
    if not as_json:
        table = Table("video_id", "file", "status", "tags")
        for r in results:
            names = ", ".join(f"{t['tag']} {t['score']:.2f}" for t in r.tags) or (r.error or "")
            table.add_row(r.video_id, Path(paths.get(r.video_id, "")).name, r.status, names)
        out.print(table)
        skipped = [
            f"{ch} ({why.removeprefix('skipped: ')})" for ch, why in channels.items() if why.startswith("skipped")
        ]
        if skipped:
            err.print("channels skipped: " + "; ".join(skipped), highlight=False)
    if results and all(r.status == "failed" for r in results):
        raise typer.Exit(1)


@app.command()
def models(profile: ProfileOpt = None, index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Each model role of the profile: which model, where its weights are, present or missing."""
    _setup()
    try:
        from .models.registry import roles as model_roles

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


def _open_agent(index: Path | None, profile: str | None, video_id: str):
    from .index.view import NoSuchVideo
    from .models.weights import MissingWeights
    from .qa.agent import open_agent

    store = _open_store(index)
    try:
        return open_agent(store.root, load_profile(profile), video_id)
    except (NoSuchVideo, ValueError) as exc:
        _fail(str(exc))
    except MissingWeights as exc:
        _fail(str(exc), code=1)


def _print_answer(answer) -> None:
    out.print(answer.answer, highlight=False)
    for c in answer.citations:
        out.print(f"  [dim]cited: {c.video_id} {c.start_s:.2f}-{c.end_s:.2f} s[/dim]", highlight=False)


@app.command()
def ask(
    video_id: Annotated[str, typer.Argument(help="Video id (or a unique prefix)")],
    question: Annotated[str, typer.Argument(help="The question")],
    profile: ProfileOpt = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question about one video, citing the time spans of the evidence."""
    _setup()
    if not question.strip():
        _fail("the question is empty")
    answer = _open_agent(index, profile, video_id).ask(question)
    _emit(answer.as_dict(), as_json)
    if not as_json:
        _print_answer(answer)


@app.command()
def chat(
    video_id: Annotated[str, typer.Argument(help="Video id (or a unique prefix)")],
    profile: ProfileOpt = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Talk about one video: one question per line, follow-ups refer to the last answer; /quit ends.
    With --json, one JSON line per answer."""
    _setup()
    agent = _open_agent(index, profile, video_id)
    if sys.stdin.isatty():
        err.print(f"chatting about {agent.video_id} (/quit to end)")
    for raw in sys.stdin:
        line = raw.strip()
        if line in ("/quit", "/exit"):
            break
        if not line:
            continue
        answer = agent.ask(line)
        if as_json:
            sys.stdout.write(json.dumps({"question": line, **answer.as_dict()}, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            _print_answer(answer)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port")] = 8000,
    profile: ProfileOpt = None,
    index: IndexOpt = None,
) -> None:
    """Serve the index over HTTP (FastAPI; API docs at /docs): videos, search, ask with chat sessions."""
    _setup()
    import uvicorn

    from .server import create_app

    store = _open_store(index)
    uvicorn.run(create_app(store.root, load_profile(profile)), host=host, port=port, log_level="warning")


def main() -> None:  # pragma: no cover - console script entry
    app()
