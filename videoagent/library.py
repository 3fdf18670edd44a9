"""The Python API: one index of videos, opened once, that ingests, searches, answers and tags.

    import videoagent

    lib = videoagent.open("~/va-index")                 # profile="default"; the folder is made on first ingest
    lib.ingest(["talk.mp4", "clips/"])                   # resumable; a bad file is reported, the rest go on
    hits = lib.search("a cat on a blanket").hits         # text -> segments; image= / video= for the others
    answer = lib.ask(hits[0].video_id, "what does the sign say?")
    chat = lib.chat(hits[0].video_id); chat.ask("and after that?")
    lib.tag(all_videos=True)

The CLI (cli.py), the HTTP API (server.py) and the tools call this; models load once per process and
are shared by every Library with the same profile. Errors a user can act on are `errors.VideoAgentError`s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Pipeline, Profile, index_dir, load_pipeline, load_profile, use_offline_env
from .errors import BadInput, NoIndex, NoSuchVideo

if TYPE_CHECKING:
    from .index.retrieval import Hit
    from .index.store import Store
    from .index.tracklets import TrackletQuery
    from .index.view import IndexView
    from .ingest.pipeline import VideoResult
    from .models.registry import Models
    from .qa.agent import Agent
    from .qa.planner import Answer
    from .tagging.library import TagLibrary
    from .tagging.tagger import VideoTags

EXECUTORS = ("local", "ray")
STATUSES = ("done", "failed", "ingesting")


@dataclass
class SearchResults:
    hits: list[Hit]
    warnings: list[str] = field(default_factory=list)  # channels or collections that could not take part

    def as_dict(self) -> dict[str, Any]:
        return {"results": [h.as_dict() for h in self.hits], "warnings": self.warnings}


@dataclass
class TagRun:
    library: TagLibrary
    channels: dict[str, str]  # channel -> "used" or "skipped: why"
    videos: list[VideoTags]


class Library:
    def __init__(
        self,
        index: str | Path | None = None,
        profile: str | Profile | None = None,
        pipeline: str | Path | Pipeline | None = None,
    ):
        use_offline_env()
        self.root = index_dir(index)
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        self.pipeline = pipeline if isinstance(pipeline, Pipeline) else load_pipeline(pipeline)

    # ---- parts, made on first use ------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return (self.root / "catalog.sqlite").exists()

    @cached_property
    def store(self) -> Store:
        """The writable store (made on first use: ingest creates the index)."""
        from .index.store import Store

        return Store(self.root)

    @cached_property
    def view(self) -> IndexView:
        """A read-only view (its catalog connection cannot write) with search; safe across threads."""
        from .index.view import IndexView

        self._need_index()
        return IndexView(self.root, self.models)

    @property
    def models(self) -> Models:
        from .models.registry import Models

        return Models.shared(self.profile)

    @property
    def reader(self) -> Store:
        """The store behind the read-only view: reads from any thread, writes refused."""
        return self.view.store

    def _need_index(self) -> None:
        if not self.exists:
            raise NoIndex(f"{self.root}: no index here (run `videoagent ingest` first, or pass --index)")

    def init(self, chroma_server: str | None = None, *, database: str = "videoagent", token_env: str | None = None):
        """Make the index, with its vectors embedded or on a Chroma server ("HOST:PORT"); an index that
        already holds vectors keeps the backend they are in."""
        import yaml

        from .config import INDEX_CONFIG, ChromaServerConfig, IndexConfig, load_index_config

        wanted = IndexConfig()
        if chroma_server:
            host, _, port = chroma_server.rpartition(":")
            if not host or not port.isdigit():
                raise BadInput(f"--chroma-server {chroma_server}: expected HOST:PORT")
            wanted = IndexConfig(chroma=ChromaServerConfig(host=host, port=int(port), database=database,
                                                           token_env=token_env))  # fmt: skip
        current = load_index_config(self.root)
        if self.exists and current != wanted and self.videos():
            raise BadInput(f"{self.root}: holds videos already; its vectors stay where they are ({INDEX_CONFIG})")
        self.root.mkdir(parents=True, exist_ok=True)
        if wanted.chroma is None:
            (self.root / INDEX_CONFIG).unlink(missing_ok=True)
        else:
            (self.root / INDEX_CONFIG).write_text(yaml.safe_dump(wanted.model_dump(mode="json"), sort_keys=False))
        self.store.collections()  # opens the backend now: an unreachable server is an error here, not at ingest

    # ---- ingest --------------------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[str | Path],
        executor: str = "local",
        on_stage: Callable[[str, str], None] | None = None,
        on_result: Callable[[VideoResult], None] | None = None,
    ) -> list[VideoResult]:
        """Ingest files and folders (folders by video suffix); a file already ingested with these settings
        is skipped, a bad one is reported (`status="failed"`) and the rest go on."""
        from .ingest.pipeline import Ingestor
        from .media.probe import find_videos

        _check_executor(executor)
        candidates, _ = find_videos(paths)
        on_result = on_result or (lambda result: None)
        if executor == "ray":
            from .scaleout import ray_ingest

            results = ray_ingest(self.store, self.profile, self.pipeline, candidates, on_result=on_result)
        else:
            ingestor = Ingestor(self.store, self.profile, self.pipeline, self.models, on_stage=on_stage)
            results = []
            for path in candidates:
                results.append(ingestor.ingest_one(path))
                on_result(results[-1])
        if "view" in self.__dict__:
            self.view.forget()  # a re-ingested video's segments changed under the read-only view
        return results

    # ---- reading -------------------------------------------------------------------------------
    def videos(self, status: str | None = None) -> list[dict[str, Any]]:
        """One row per video: id, path, duration, status (a failed one with its error), scene count."""
        if status not in (None, *STATUSES):
            raise BadInput(f"status {status}: expected done, failed or ingesting")
        return self.reader.listing(status)

    def video(self, video_id: str) -> dict[str, Any]:
        """The done video with this id or unique id prefix."""
        found = self.reader.find_video(video_id)
        if found is None:
            raise NoSuchVideo(f"{video_id}: no such video in {self.root} (or the prefix is ambiguous)")
        return found

    def show(self, video_id: str) -> dict[str, Any]:
        """Everything the index holds about one video: segments, transcript, on-screen text, tracklets."""
        return self.reader.describe(self.video(video_id)["video_id"])

    def video_tags(self, video_id: str) -> list[dict[str, Any]]:
        """The tags assigned to a video (tag, score, evidence), best first; [] when it is not tagged."""
        return (self.reader.video_tags(video_id) or {}).get("tags", [])

    def export(self, video_id: str, fmt: str = "json") -> str:
        """One video as SubRip or WebVTT captions, or everything the index holds about it as JSON."""
        from .export import FORMATS, export

        if fmt not in FORMATS:
            raise BadInput(f"format {fmt}: expected one of {', '.join(FORMATS)}")
        doc = self.show(video_id)
        return export(self.root, doc, self.video_tags(doc["video_id"]), fmt)

    def tracklets(self, query: TrackletQuery) -> list[dict[str, Any]]:
        return [rec for rec in self.reader.tracklets(query.video_id, query.category) if query.matches(rec)]

    def similar_tracklets(self, tracklet_id: str, query: TrackletQuery, top: int = 10):
        """(record, score) of the tracklets that look most like `tracklet_id` (UnknownTracklet if none has it)."""
        from .index.tracklets import similar

        return similar(self.reader, tracklet_id, query, top)

    def search(
        self,
        text: str | None = None,
        *,
        image: str | Path | None = None,
        video: str | Path | None = None,
        top: int = 10,
        video_id: str | None = None,
    ) -> SearchResults:
        """Exactly one of: text -> segments (fused channels), image -> segments, video -> similar videos."""
        if sum(x is not None for x in (text, image, video)) != 1:
            raise BadInput("give exactly one of: text, image, video")
        only = self.video(video_id)["video_id"] if video_id else None
        retriever = self.view.retriever
        retriever.warnings = []
        if text is not None:
            hits = retriever.search_text(text, top_k=top, video_id=only)
        elif image is not None:
            hits = retriever.search_image(image, top_k=top, video_id=only)
        else:
            hits = retriever.search_video(video, top_k=top)
        return SearchResults(hits, list(retriever.warnings))

    # ---- questions -----------------------------------------------------------------------------
    def chat(self, video_id: str) -> Agent:
        """A chat session about one video: `.ask(question)` answers, follow-ups refer to earlier answers."""
        self.models.load_soon("llm", "text_encoder")  # read the weights while the QA code imports and the index opens
        from .qa.agent import open_agent

        return open_agent(self.view, self.profile, self.video(video_id)["video_id"])

    def ask(self, video_id: str, question: str) -> Answer:
        """One question about one video; the answer cites `[start_s, end_s]` spans of its evidence."""
        if not question.strip():
            raise BadInput("the question is empty")
        return self.chat(video_id).ask(question)

    # ---- tags ----------------------------------------------------------------------------------
    def tag(
        self,
        video_ids: Sequence[str] | None = None,
        *,
        all_videos: bool = False,
        tags: str | Path | TagLibrary | None = None,
        top: int = 10,
        min_score: float = 0.5,
        ranker: str | Path | None = None,
        force: bool = False,
        executor: str = "local",
        on_plan: Callable[[dict[str, str]], None] | None = None,
        on_done: Callable[[VideoTags], None] | None = None,
    ) -> TagRun:
        """Tag videos (`video_ids`, or every done video) from a tag library by recall-then-rank; videos
        already tagged with this library and these settings are skipped unless `force`."""
        from .tagging.library import TagLibrary
        from .tagging.ranker import Ranker
        from .tagging.tagger import Tagger, TagOptions

        if bool(video_ids) == all_videos:
            raise BadInput("give video ids or all_videos (not both)")
        _check_executor(executor)
        library = tags if isinstance(tags, TagLibrary) else TagLibrary.load(tags) if tags else TagLibrary.default()
        fused = Ranker.load(ranker) if ranker else None
        self._need_index()
        if all_videos:
            ids = [v["video_id"] for v in self.store.videos()]
        else:
            ids = [self.video(v)["video_id"] for v in video_ids]
        recall_pool = None
        if executor == "ray":
            from .scaleout import RayRecall

            recall_pool = RayRecall
        tagger = Tagger(self.store, self.models, library, TagOptions(top_k=top, min_score=min_score), fused)
        channels = tagger.plan.channels  # builds the library's embeddings once per index
        if on_plan:
            on_plan(channels)
        results = tagger.tag(ids, force=force, recall_pool=recall_pool, on_done=on_done)
        return TagRun(library, channels, results)

    # ---- models --------------------------------------------------------------------------------
    def model_roles(self) -> list[dict[str, Any]]:
        """Each model role of the profile: model, where its weights are, present or missing."""
        from .models.registry import roles

        return roles(self.profile)

    def close(self) -> None:
        for part in ("view", "store"):
            if part in self.__dict__:
                self.__dict__.pop(part).close()


def _check_executor(executor: str) -> None:
    if executor not in EXECUTORS:
        raise BadInput(f"executor {executor}: expected local or ray")
