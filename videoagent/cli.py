"""`videoagent ...`: the command line (typer), a thin adapter over the Python API (library.py).

With --json, stdout carries exactly one JSON document; progress and logs go to stderr. While a command
runs, file descriptor 1 points at stderr, so nothing a library prints (ultralytics announces its
settings file on stdout) can break the document. Exit codes: 0 success; 2 bad usage or bad input
(a `VideoAgentError`, one line on stderr); 1 anything else (a missing model, a bug, a torch error).
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import VideoAgentError
from .library import STATUSES

if TYPE_CHECKING:
    from .library import Library

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)
err = Console(stderr=True, soft_wrap=True)  # one error, one line, however long
out = Console()  # rebound per command to the real stdout (see _real_stdout)

IndexOpt = Annotated[
    Path | None, typer.Option("--index", help="Index folder [default: $VIDEOAGENT_HOME or ./.videoagent]")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout")]
ProfileOpt = Annotated[
    str | None, typer.Option("--profile", help="Model profile: a shipped name (default, accurate, hub, ...) or a path")
]
ExecutorOpt = Annotated[
    str, typer.Option("--executor", help="local, or ray: Ray actors ($RAY_ADDRESS or a local cluster)")
]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def _real_stdout() -> Iterator[TextIO]:
    """The process's stdout, reserved for the command's own output: fd 1 and sys.stdout point at stderr
    meanwhile. (Under a test runner that swapped sys.stdout for a buffer, that buffer is used as is.)"""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        fd = None
    if fd != 1:
        yield sys.stdout
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    real = os.fdopen(saved, "w", encoding="utf-8", buffering=1, closefd=False)
    previous, sys.stdout = sys.stdout, sys.stderr
    try:
        yield real
    finally:
        real.flush()
        sys.stdout = previous
        os.dup2(saved, 1)
        os.close(saved)


_READ_ONLY_DONE = False  # set when a command that writes nothing has finished: `main` may then exit at once


def command(name: str | None = None, read_only: bool = False) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """`app.command`, with the error contract: VideoAgentError -> exit 2, MissingWeights -> exit 1, each
    one line on stderr; stdout reserved for the command's own output. A `read_only` command writes nothing
    to the index, so once it has printed its output the process may end without the interpreter's teardown."""

    def wrap(fn: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> None:
            global out
            from .models.weights import MissingWeights

            with _real_stdout() as stdout:
                out = Console(file=stdout)
                try:
                    fn(*args, **kwargs)
                except VideoAgentError as exc:
                    _fail(str(exc))
                except MissingWeights as exc:
                    _fail(str(exc), code=1)
            global _READ_ONLY_DONE
            _READ_ONLY_DONE = read_only

        return app.command(name)(run)

    return wrap


def main() -> None:
    """The `videoagent` console script. After a read-only command (ask, search, show, ...) the process exits
    as soon as its output is flushed: the interpreter's teardown of llama.cpp, ONNX Runtime, torch and
    chromadb takes about 0.9 s of a cold `videoagent ask` (measured), and there is nothing left to save."""
    try:
        app()
    except SystemExit as exc:
        if not _READ_ONLY_DONE:
            raise
        code = exc.code
        if not isinstance(code, int):
            if code is not None:
                print(code, file=sys.stderr)
            code = 0 if code is None else 1
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(code)


def _setup(verbose: bool = False) -> None:
    from rich.logging import RichHandler

    from .config import use_offline_env

    use_offline_env()  # before anything imports transformers, chromadb or ultralytics
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
    )
    for noisy in ("chromadb", "httpx", "faster_whisper", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _library(index: Path | None, profile: str | None = None, pipeline: Path | None = None) -> Library:
    from .library import Library

    return Library(index, profile, pipeline)


def _emit(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out.file.write(json.dumps(doc, ensure_ascii=False) + "\n")
        out.file.flush()


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


@command()
def init(
    index: IndexOpt = None,
    chroma_server: Annotated[
        str | None, typer.Option("--chroma-server", help="HOST:PORT of a `chroma run` server to keep the vectors in")
    ] = None,
    database: Annotated[str, typer.Option("--database", help="The server database for this index")] = "videoagent",
    token_env: Annotated[
        str | None, typer.Option("--token-env", help="Environment variable holding the server's bearer token")
    ] = None,
) -> None:
    """Make an index: embedded (the default, one writing process), or with its vectors on a Chroma server so
    that several ingest workers, Ray and several servers share it. Writes <index>/index.yaml."""
    _setup()
    from .library import Library

    lib = Library(index)
    lib.init(chroma_server, database=database, token_env=token_env)
    where = f" (vectors on {chroma_server}, database {database})" if chroma_server else " (embedded vectors)"
    err.print(f"{lib.root}: index ready{where}")


@command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Video files or folders")],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    profile: ProfileOpt = None,
    pipeline: Annotated[Path | None, typer.Option("--pipeline", help="Pipeline YAML")] = None,
    executor: ExecutorOpt = "local",
    describe: Annotated[
        bool | None,
        typer.Option(
            "--describe/--no-describe",
            help="The LLM writes each video's title, summary and chapters (slow on CPU) [default: the pipeline's]",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Ingest videos into the index (resumable; a file already ingested is skipped, and one ingested with
    other settings re-runs only the stages they change: `--describe` on a done video runs just that)."""
    _setup(verbose)
    from .ingest.pipeline import VideoResult
    from .media.probe import find_videos

    missing = [p for p in paths if not p.exists()]
    for p in missing:
        err.print(f"[red]error:[/red] {p}: no such file or folder", highlight=False)
    if missing and len(paths) == 1:
        raise typer.Exit(2)
    lib = _library(index, profile, pipeline)
    if describe is not None:
        lib.pipeline = lib.pipeline.model_copy(
            update={"describe": lib.pipeline.describe.model_copy(update={"enabled": describe})}
        )
    present = [p for p in paths if p.exists()]
    candidates, ignored = find_videos(present)
    results: list[VideoResult] = []
    with _progress() as progress:
        task = progress.add_task("ingest" if executor == "local" else f"ingest ({executor})", total=len(candidates))

        def done(result: VideoResult) -> None:
            results.append(result)
            if result.status == "failed":
                err.print(f"[red]failed:[/red] {result.error}", highlight=False)
            progress.advance(task)

        def stage(path: str, name: str) -> None:
            progress.update(task, description=f"{Path(path).name}: {name}")

        lib.ingest(candidates, executor=executor, on_stage=stage, on_result=done)
    results += [VideoResult(path=str(p), status="failed", error=f"{p}: no such file or folder") for p in missing]
    _emit({"videos": [r.as_dict() for r in results], "ignored": [str(p) for p in ignored]}, as_json)
    if not as_json:
        _print_ingest(results, ignored)
    if results and all(r.status == "failed" for r in results):
        raise typer.Exit(2)


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


@command("list", read_only=True)
def list_videos(
    index: IndexOpt = None,
    status: Annotated[str | None, typer.Option(help="Only videos with this status: done | failed | ingesting")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the videos in the index: id, duration, scenes, status; a failed ingest says why."""
    _setup()
    if status not in (None, *STATUSES):
        _fail(f"--status {status}: expected done, failed or ingesting")
    rows = _library(index).videos(status)
    _emit({"videos": rows}, as_json)
    if not as_json:
        table = Table("video_id", "duration", "scenes", "status", "path")
        for r in rows:
            state = r["status"] if r["status"] != "failed" else f"[red]failed[/red]: {r['error']}"
            table.add_row(r["video_id"], f"{r['duration_s'] or 0:.1f}s", str(r["segments"]), state, r["path"])
        out.print(table)


@command(read_only=True)
def show(
    video_id: Annotated[str, typer.Argument(help="Video id (or a unique prefix)")],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show what the index knows about one video: its title, summary and chapters, and per segment the
    transcript, on-screen text, what is seen and its description."""
    _setup()
    from .ingest.labels import labels_brief

    doc = _library(index).show(video_id)
    _emit(doc, as_json)
    if not as_json:
        out.print(f"[bold]{doc['video_id']}[/bold]  {doc['path']}  {doc['duration_s']:.1f}s")
        if doc["title"] or doc["summary"]:
            out.print(f"[bold]{doc['title']}[/bold]  {doc['summary']}  [dim](written by {doc['described_by']})[/dim]")
        for c in doc["chapters"]:
            out.print(f"  {c['start_s']:7.2f}-{c['end_s']:7.2f}  {c['title']}")
        if heard := doc["language"]:
            out.print(
                f"speech in {heard['name']} [dim]({heard['code']}, p={heard['p']:.2f}, heard by {heard['by']})[/dim]"
            )
        segments = doc["segments"]
        optional = {k: any(s[k] for s in segments) for k in ("caption", "description", "seen")}
        heads = ["start", "end", "transcript", "on-screen text", *(k for k, on in optional.items() if on)]
        table = Table(*heads)
        for s in segments:
            extra = {
                "caption": s["caption"] or "",
                "description": s["description"],
                "seen": labels_brief(s["seen"], min_score=0.0, most=5),
            }
            table.add_row(f"{s['start_s']:.2f}", f"{s['end_s']:.2f}", s["transcript"], " | ".join(s["ocr"]),
                          *(extra[k] for k, on in optional.items() if on))  # fmt: skip
        out.print(table)
        _print_tracklets(doc["tracklets"])


@command()
def export(
    video_id: Annotated[str, typer.Argument(help="Video id (or a unique prefix)")],
    fmt: Annotated[str, typer.Option("--format", help="srt or vtt (captions) or json (everything)")] = "json",
    output: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout")] = None,
    index: IndexOpt = None,
) -> None:
    """Export one video: its transcript as SubRip or WebVTT captions, or scenes, transcript, on-screen text,
    tags and tracklets as JSON."""
    _setup()
    text = _library(index).export(video_id, fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        from .atomic import atomic_write

        atomic_write(output, lambda f: f.write(text.encode()))
        err.print(f"wrote {output}")


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


@command(read_only=True)
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
    from .index.tracklets import SIDES, TrackletQuery

    for name, side in (("--enters", enters), ("--exits", exits)):
        if side is not None and side not in SIDES:
            _fail(f"{name} {side}: expected one of {', '.join(SIDES)}")
    lib = _library(index)
    if video_id is not None:
        video_id = lib.video(video_id)["video_id"]
    query = TrackletQuery(video_id, category, start, end, enters, exits)
    if like is not None:
        hits = lib.similar_tracklets(like, query, top)
        _emit({"results": [{**rec, "score": score} for rec, score in hits]}, as_json)
        if not as_json:
            _print_tracklets([rec for rec, _ in hits], [score for _, score in hits])
        return
    found = lib.tracklets(query)
    if count:
        _emit({"count": len(found), "video_id": video_id, "category": category}, as_json)
        if not as_json:
            out.print(len(found))
        return
    _emit({"tracklets": found}, as_json)
    if not as_json:
        _print_tracklets(found)


@command(read_only=True)
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
    if sum(x is not None for x in (text, video, image)) != 1:
        _fail("give exactly one of: TEXT, --video PATH, --image PATH")
    found = _library(index, profile).search(text, image=image, video=video, top=top, video_id=video_id)
    _emit(found.as_dict(), as_json)
    for warning in found.warnings:  # e.g. a collection whose temporal checkpoint is gone
        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    if not as_json:
        table = Table("score", "video_id", "start", "end", "why")
        for h in found.hits:
            table.add_row(f"{h.score:.3f}", h.video_id, f"{h.start_s:.2f}", f"{h.end_s:.2f}", h.why)
        out.print(table)


@command()
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
    from .tagging.tagger import export as export_results

    if bool(video_ids) == all_videos:
        _fail("give VIDEO_ID... or --all (not both)")
    if export is not None and export.suffix.lower() not in (".jsonl", ".csv"):
        _fail(f"{export}: --export writes .jsonl or .csv")
    lib = _library(index, profile)
    with _progress() as progress:
        task = progress.add_task("tag: planning channels", total=None)

        def planned(channels: dict[str, str]) -> None:
            progress.update(task, description=f"tag ({executor})", total=len(video_ids or lib.videos("done")))

        run = lib.tag(
            video_ids,
            all_videos=all_videos,
            tags=tags,
            top=top,
            min_score=min_score,
            ranker=ranker,
            force=force,
            executor=executor,
            on_plan=planned,
            on_done=lambda r: progress.advance(task),
        )
    for r in run.videos:
        if r.status == "failed":
            err.print(f"[red]failed:[/red] {r.error}", highlight=False)
    paths = {v["video_id"]: v["path"] for v in lib.videos("done")}
    if export is not None:
        export_results(run.videos, paths, export)
    library = run.library
    doc = {
        "library": {"source": library.source, "version": library.version, "tags": len(library)},
        "channels": run.channels,
        "videos": [{**r.as_dict(), "path": paths.get(r.video_id)} for r in run.videos],
    }
    _emit(doc, as_json)
    if not as_json:
        table = Table("video_id", "file", "status", "tags")
        for r in run.videos:
            names = ", ".join(f"{t['tag']} {t['score']:.2f}" for t in r.tags) or (r.error or "")
            table.add_row(r.video_id, Path(paths.get(r.video_id, "")).name, r.status, names)
        out.print(table)
        skipped = [
            f"{ch} ({why.removeprefix('skipped: ')})" for ch, why in run.channels.items() if why.startswith("skipped")
        ]
        if skipped:
            err.print("channels skipped: " + "; ".join(skipped), highlight=False)
    if run.videos and all(r.status == "failed" for r in run.videos):
        raise typer.Exit(1)


@command(read_only=True)
def models(profile: ProfileOpt = None, index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Each model role of the profile: which model, where its weights are, present or missing."""
    _setup()
    roles = _library(index, profile).model_roles()
    _emit({"roles": roles}, as_json)
    if not as_json:
        table = Table("role", "model", "present", "path")
        for r in roles:
            present = "yes" if r["present"] else f"[red]missing[/red]: {escape(r['note'])}"
            table.add_row(r["role"], r["model"] or "-", present, r["path"] or "")
        out.print(table)


def _print_answer(answer) -> None:
    out.print(answer.answer, highlight=False)
    for c in answer.citations:
        out.print(f"  [dim]cited: {c.video_id} {c.start_s:.2f}-{c.end_s:.2f} s[/dim]", highlight=False)


@command(read_only=True)
def ask(
    video_id: Annotated[str, typer.Argument(help="Video id (or a unique prefix)")],
    question: Annotated[str, typer.Argument(help="The question")],
    profile: ProfileOpt = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question about one video, citing the time spans of the evidence."""
    _setup()
    answer = _library(index, profile).ask(video_id, question)
    _emit(answer.as_dict(), as_json)
    if not as_json:
        _print_answer(answer)


@command(read_only=True)
def chat(
    video_id: Annotated[str, typer.Argument(help="Video id (or a unique prefix)")],
    profile: ProfileOpt = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Talk about one video: one question per line; follow-ups are read against the conversation;
    /reset forgets it, /quit ends. With --json, one JSON line per answer."""
    _setup()
    agent = _library(index, profile).chat(video_id)
    if sys.stdin.isatty():
        err.print(f"chatting about {agent.video_id} (/reset to start over, /quit to end)")
    for raw in sys.stdin:
        line = raw.strip()
        if line in ("/quit", "/exit"):
            break
        if line == "/reset":
            agent.reset()
            if sys.stdin.isatty():
                err.print("conversation forgotten")
            continue
        if not line:
            continue
        answer = agent.ask(line)
        if as_json:
            _emit({"question": line, **answer.as_dict()}, True)
        else:
            _print_answer(answer)


@app.command("mcp")
def mcp_server(profile: ProfileOpt = None, index: IndexOpt = None) -> None:
    """Serve the index to agents over MCP (stdio): read-only tools search, ask, show, list_videos, tracklets,
    tags. Configure a desktop agent to run `videoagent mcp --index DIR`."""
    # Not `command()`: the SDK's stdio transport claims fd 1 itself (and points it at stderr for the rest).
    _setup()
    from .mcp_server import serve_stdio

    lib = _library(index, profile)
    try:
        lib.videos()  # NoIndex (exit 2) before the server starts
    except VideoAgentError as exc:
        _fail(str(exc))
    serve_stdio(lib)


@command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port")] = 8000,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="VIDEOAGENT_TOKEN", help="Require this token on every API and media request"),
    ] = None,
    media_root: Annotated[
        list[Path] | None, typer.Option("--media-root", help="A folder the web app may ingest from (repeatable)")
    ] = None,
    upload_limit_mb: Annotated[int, typer.Option("--upload-limit-mb", help="Largest upload accepted")] = 2048,
    profile: ProfileOpt = None,
    index: IndexOpt = None,
) -> None:
    """Serve the web app and the HTTP API (docs at /docs): library, player, search, chat, ingest jobs."""
    _setup()
    import uvicorn

    from .server import create_app
    from .server.auth import check_bind

    check_bind(host, token)
    lib = _library(index, profile)
    if not lib.exists:
        err.print(f"{lib.root}: no index yet; serving an empty one (upload videos on the page)")
        lib.store  # noqa: B018 - makes the index
    app = create_app(lib, token=token, media_roots=media_root or (), upload_limit_mb=upload_limit_mb)
    err.print(f"serving {lib.root} on http://{host}:{port}/" + (" (token required)" if token else ""))
    uvicorn.run(app, host=host, port=port, log_level="warning")
