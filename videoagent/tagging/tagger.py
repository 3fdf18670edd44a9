"""Bulk tagging by recall-then-rank (Taobao's two stages) against a tag library of thousands of tags.

Recall (per video, cheap, from the index only; runs in Ray workers with `--executor ray`):
  text     each segment text row already in the index (transcript, OCR, caption) is a nearest-neighbour
           query into the library's tag-text embeddings, stored once in their own Chroma collection
           (`tags_<encoder>-<library version>`), so a query costs ~log(library size), not a scan
  keyword  tag names and synonyms found in the segment texts, by word or by lemma (tagmatch.py)
  labels   tag names and synonyms that the segment's visual labels name (what the ImageNet classifier and
           the object detector saw: "Samoyed", "person"), scored by the label's probability
  visual   each segment's CLIP embedding is a query into CLIP text embeddings of "a photo of a <tag>."
           (only when the frame encoder is a learned image-text model; otherwise skipped and reported)
Every recalled tag then gets exact channel scores against all of the video's rows (a few dot products).

Rank (per chunk of videos, in the driver):
  related  tags of the nearest videos in the index (`video_<encoder>` collection): similarity x that
           video's content score (its score without this channel), from this chunk or from earlier runs
  fuse     tagrank.Ranker turns the five channel scores into one calibrated score; the top K above
           `min_score` are kept, each with its evidence (channel, segment time, matched text)

Results go to the catalog (`video_tags`, plus each segment's `tags` column). A video already tagged with
the same library version and settings is skipped, so a bulk run over thousands of videos resumes.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from ..config import config_hash
from ..index.collections import collection_name
from ..index.store import CHROMA_MAX_BATCH, Store
from ..ingest.labels import labels_document, settings_of
from ..models.registry import Models
from .keywords import KeywordMatcher
from .library import TagLibrary
from .ranker import Ranker

log = logging.getLogger(__name__)
TAG_HNSW = {"hnsw:space": "cosine", "hnsw:search_ef": 128, "hnsw:construction_ef": 128}
ENCODE_BATCH = 512
_ENCODED: dict[str, np.ndarray] = {}  # tag collection name -> its vectors, per process
KEYWORD_LEMMA = 0.7  # keyword score when only the lemmas match ("motorcycling" vs "motorcycle")
GENERAL = 0.5  # labels score of a general visual label ("animal" where "dog" is seen: ingest/labels.py)


class TagOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    top_k: int = 10
    min_score: float = 0.5  # calibrated score a tag needs to be assigned
    text_candidates: int = 25  # tags recalled per segment text row
    visual_candidates: int = 25  # tags recalled per segment (CLIP)
    related_videos: int = 5
    related_min_similarity: float = 0.9  # below this a neighbour's tags are not borrowed
    evidence_per_tag: int = 3
    content_kept: int = 100  # content scores stored per video, for its neighbours' related channel
    chunk: int = 64  # videos recalled before the driver ranks and saves them


@dataclass
class Evidence:
    channel: str  # text | keyword | labels | visual | related
    score: float  # the channel's score for this piece of evidence
    source: str = ""  # transcript | ocr | caption | frames | a label's model | the related video's id
    seg: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    text: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v is not None and v != "" and k != "seg"}
        out["score"] = round(self.score, 4)
        return out


@dataclass
class Candidate:
    features: dict[str, float] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)

    def bump(self, channel: str, value: float) -> None:
        self.features[channel] = max(self.features.get(channel, 0.0), value)


@dataclass
class Plan:
    """What recall needs, fixed once per run by the driver: collection names and which channels run."""

    library_version: str
    tag_text: str
    text_rows: str
    # (rows, tags) collection pairs: one per space of visual vectors (a temporal module and checkpoint),
    # the library's prompts encoded through that space's own text side
    visual: list[tuple[str, str]]
    video_rows: str | None
    channels: dict[str, str]  # channel -> "used" (or "used: how") or "skipped: why"


@dataclass
class Recalled:
    video_id: str
    candidates: dict[str, Candidate]
    video_vec: np.ndarray | None


@dataclass
class VideoTags:
    video_id: str
    status: str  # done | skipped | failed
    tags: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"video_id": self.video_id, "status": self.status, "tags": self.tags, "error": self.error}


def _has(store: Store, name: str | None) -> bool:
    return bool(name) and name in store.collections()


def _tag_collection(store: Store, name: str, size: int, texts: Callable[[], Sequence[str]], encode, names):
    """The library's embeddings in their own Chroma collection, computed once per (encoder, library)."""
    if _has(store, name):
        coll = store.chroma.get_collection(name, embedding_function=None)
        if coll.count() == size:
            return
        store.chroma.delete_collection(name)  # an interrupted build: start over
    coll = store.chroma.get_or_create_collection(name, embedding_function=None, metadata=TAG_HNSW)
    if name not in _ENCODED:  # a second index in the same process reuses the vectors
        all_texts = list(texts())
        _ENCODED[name] = np.concatenate(
            [encode(all_texts[j : j + ENCODE_BATCH]) for j in range(0, size, ENCODE_BATCH)]
        ).astype(np.float32)
    vecs = _ENCODED[name]
    for i in range(0, size, CHROMA_MAX_BATCH):
        end = min(i + CHROMA_MAX_BATCH, size)
        coll.add(
            ids=[str(k) for k in range(i, end)],
            embeddings=vecs[i:end],
            metadatas=[{"tag": n} for n in names[i:end]],
        )


def plan(store: Store, models: Models, library: TagLibrary) -> Plan:
    """Decide the channels and make sure the library's tag embeddings are in the index (driver only)."""
    text_encoder = models.text_encoder()
    names = [t.name for t in library.tags]
    tag_text = collection_name("tags", f"{text_encoder.name}-{library.version}")
    _tag_collection(store, tag_text, len(library), lambda: [t.text() for t in library.tags], text_encoder.encode, names)
    channels = {"text": "used", "keyword": "used", "labels": "used"}

    encoder = models.frame_encoder()
    visual, video_rows = [], None
    if encoder is None:
        channels["visual"] = "skipped: no frame encoder in this profile"
        channels["related"] = "skipped: no frame encoder, so no video vectors"
    else:
        video_rows = collection_name("video", encoder.name)
        channels["related"] = "used"
        if getattr(encoder, "learned", False) and hasattr(encoder, "encode_text"):
            from ..index.retrieval import Retriever

            prompts = [f"a photo of a {t.name}." for t in library.tags]  # CLIP's own prompt
            spaces = Retriever(store, models).spaces("visual", encoder)
            for space in spaces:
                tags = collection_name("tagsvisual", f"{space.collection}-{library.version}")
                encode = lambda texts, pooler=space.pooler: pooler.encode_text(encoder, list(texts))  # noqa: E731
                _tag_collection(store, tags, len(library), lambda: prompts, encode, names)
                visual.append((space.collection, tags))
            used = ", ".join(f"{s.label} pooling" for s in spaces)
            channels["visual"] = f"used: {used}" if spaces else "skipped: no visual vectors in this index yet"
        else:
            channels["visual"] = f"skipped: frame encoder {encoder.name} is not an image-text model (no CLIP)"
    return Plan(
        library.version,
        tag_text,
        collection_name("text", text_encoder.name),
        visual,
        video_rows,
        channels,
    )


class ContentRecall:
    """Recall from a video's own content (text, keyword, visual) — reads the index, writes nothing."""

    def __init__(self, store: Store, library: TagLibrary, plan: Plan, options: TagOptions):
        self.store, self.library, self.plan, self.options = store, library, plan, options
        self.matcher = KeywordMatcher.of(library)

    def recall(self, video_id: str) -> Recalled:
        cands: dict[int, Candidate] = {}
        segments = self.store.segments(video_id)
        for seg, s in enumerate(segments):
            texts = ("transcript", s.transcript), ("ocr", " | ".join(s.ocr)), ("caption", s.caption)
            for source, text in (*texts, ("description", s.description)):
                for hit in self.matcher.find(text or ""):
                    value = 1.0 if hit.exact else KEYWORD_LEMMA
                    cand = cands.setdefault(hit.tag, Candidate())
                    cand.bump("keyword", value)
                    cand.evidence.append(Evidence("keyword", value, source, seg, s.start_s, s.end_s, hit.matched))
            for label in s.seen:
                self._label(cands, label, seg, s.start_s, s.end_s)
        self._dense(video_id, cands, "text", self.plan.text_rows, self.plan.tag_text, self.options.text_candidates)
        for rows, tags in self.plan.visual:
            self._dense(video_id, cands, "visual", rows, tags, self.options.visual_candidates)
        return Recalled(
            video_id,
            {self.library.tags[i].name: c for i, c in sorted(cands.items())},
            self._video_vec(video_id),
        )

    def _label(self, cands: dict[int, Candidate], label: dict, seg: int, start_s: float, end_s: float) -> None:
        """The tags a visual label names ("Samoyed" -> samoyed, "grey whale" -> grey whale, whale), scored by
        how sure the classifier or detector was (less for a tag naming part of the label, and half for a
        general label that a more specific one stands for: "animal" beside "dog")."""
        for hit in self.matcher.find(label["label"]):
            whole = hit.exact and len(hit.matched.split()) == len(label["label"].split())
            value = float(label["score"]) * (1.0 if whole else KEYWORD_LEMMA) * (GENERAL if label.get("general") else 1)
            cand = cands.setdefault(hit.tag, Candidate())
            cand.bump("labels", value)
            doc = labels_document([label])
            cand.evidence.append(Evidence("labels", value, label.get("source", ""), seg, start_s, end_s, doc))
        for tag, value in settings_of(label):  # "street sign" -> city
            if tag not in self.library:
                continue
            cand = cands.setdefault(self.library.position[tag], Candidate())
            cand.bump("labels", value)
            doc = f"implies {tag}: {labels_document([label])}"
            cand.evidence.append(Evidence("labels", value, label.get("source", ""), seg, start_s, end_s, doc))

    def _dense(self, video_id: str, cands: dict[int, Candidate], channel: str, rows_name, tags_name, k: int) -> None:
        """Nearest tags of every row, then exact similarities of every candidate to every row (the visual
        labels' rows are left to `_label`: a label is matched by name, weighed by its certainty)."""
        if not _has(self.store, rows_name):
            return
        where = {"$and": [{"video_id": video_id}, {"channel": {"$ne": "labels"}}]}
        rows = self.store.collection(rows_name).get(where=where, include=["embeddings", "metadatas", "documents"])
        if not rows["ids"]:
            return
        row_vecs = np.asarray(rows["embeddings"], dtype=np.float32)
        tags = self.store.chroma.get_collection(tags_name, embedding_function=None)
        found = tags.query(query_embeddings=row_vecs, n_results=min(k, tags.count()), include=[])
        for ids in found["ids"]:
            for tid in ids:
                cands.setdefault(int(tid), Candidate())
        order = sorted(cands)
        got = tags.get(ids=[str(i) for i in order], include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        sims = np.stack([np.asarray(by_id[str(i)], dtype=np.float32) for i in order]) @ row_vecs.T
        best = sims.argmax(axis=1)
        for tag, j, sim in zip(order, best, sims[np.arange(len(order)), best], strict=True):
            meta, doc = rows["metadatas"][j], rows["documents"][j] or ""
            cand = cands[tag]
            cand.bump(channel, float(sim))
            source = meta.get("channel", "frames")
            cand.evidence.append(
                Evidence(channel, float(sim), source, int(meta["seg"]), meta["start_s"], meta["end_s"], doc)
            )

    def _video_vec(self, video_id: str) -> np.ndarray | None:
        if not _has(self.store, self.plan.video_rows):
            return None
        got = self.store.collection(self.plan.video_rows).get(ids=[video_id], include=["embeddings"])
        return np.asarray(got["embeddings"][0], dtype=np.float32) if got["ids"] else None


class Tagger:
    """Tags videos of one index with one library: recall (local or Ray), then rank and save in the driver."""

    def __init__(
        self,
        store: Store,
        models: Models,
        library: TagLibrary | None = None,
        options: TagOptions | None = None,
        ranker: Ranker | None = None,
    ):
        self.store, self.models = store, models
        self.library = library or TagLibrary.default()
        self.options = options or TagOptions()
        self.ranker = ranker or Ranker.default()
        self._plan: Plan | None = None
        self._chunk_content: dict[str, dict[str, float]] = {}

    @property
    def plan(self) -> Plan:
        if self._plan is None:
            self._plan = plan(self.store, self.models, self.library)
        return self._plan

    @property
    def settings_hash(self) -> str:
        opts = self.options.model_dump(exclude={"chunk"})
        return config_hash("tags", opts, asdict(self.ranker), self.plan.channels)

    def tag(
        self,
        video_ids: Sequence[str],
        force: bool = False,
        recall_pool: Callable[..., Any] | None = None,
        on_done: Callable[[VideoTags], None] | None = None,
    ) -> list[VideoTags]:
        """Tag each video (skipping those already tagged with these settings unless `force`).

        `recall_pool(root, library, plan, options)`, when given, is a context manager whose `recall(ids)`
        recalls a chunk elsewhere (scaleout.RayRecall: Ray actors); by default recall runs here."""
        on_done = on_done or (lambda result: None)
        results: dict[str, VideoTags] = {}
        todo = []
        for vid in dict.fromkeys(video_ids):
            stored = self.store.video_tags(vid)
            if not force and stored and self._current(stored):
                results[vid] = VideoTags(vid, "skipped", stored["tags"])
                on_done(results[vid])
            else:
                todo.append(vid)
        for recalled in self._recall_chunks(todo, recall_pool):
            for result in self._rank_and_save(recalled):
                results[result.video_id] = result
                on_done(result)
        return [results[vid] for vid in dict.fromkeys(video_ids)]

    def _current(self, stored: dict[str, Any]) -> bool:
        return stored["library_version"] == self.library.version and stored["settings_hash"] == self.settings_hash

    def _recall_chunks(self, video_ids: list[str], recall_pool=None) -> Iterator[list[Recalled | VideoTags]]:
        chunk = self.options.chunk
        if recall_pool is not None:
            with recall_pool(self.store.root, self.library, self.plan, self.options) as pool:
                for i in range(0, len(video_ids), chunk):
                    yield pool.recall(video_ids[i : i + chunk])
            return
        recall = ContentRecall(self.store, self.library, self.plan, self.options)
        for i in range(0, len(video_ids), chunk):
            yield [recall_or_fail(recall, vid) for vid in video_ids[i : i + chunk]]

    # ---- rank ------------------------------------------------------------------------------
    def _content_scores(self, recalled: Recalled) -> dict[str, float]:
        scores = {tag: self.ranker.score({**c.features, "related": 0.0}) for tag, c in recalled.candidates.items()}
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[: self.options.content_kept]
        return {tag: round(score, 4) for tag, score in best}

    def _with_related(self, chunk: list[Recalled | VideoTags]) -> list[Recalled | VideoTags]:
        """Add the related-videos channel to each recalled video of a chunk (in place)."""
        done = [r for r in chunk if isinstance(r, Recalled)]
        self._chunk_content = {r.video_id: self._content_scores(r) for r in done}
        if self.plan.channels["related"] == "used":
            for item in done:
                if item.video_vec is not None:
                    self._related(item, self._chunk_content, item.candidates)
        return chunk

    def candidates(self, video_ids: Sequence[str]) -> dict[str, dict[str, Candidate]]:
        """Every recalled tag of each video with its channel scores, nothing saved (for evaluation)."""
        out: dict[str, dict[str, Candidate]] = {}
        for chunk in self._recall_chunks(list(dict.fromkeys(video_ids))):
            for item in self._with_related(chunk):
                if isinstance(item, VideoTags):
                    raise RuntimeError(item.error)
                out[item.video_id] = item.candidates
        return out

    def _rank_and_save(self, chunk: list[Recalled | VideoTags]) -> list[VideoTags]:
        out = []
        for item in self._with_related(chunk):
            if isinstance(item, VideoTags):  # recall failed
                out.append(item)
                continue
            cands = item.candidates
            kept = select(cands, self.ranker, self.options.top_k, self.options.min_score)
            tags, segment_tags = [], {}
            for score, tag in kept:
                evidence = self._evidence(cands[tag])
                tags.append({"tag": tag, "score": round(score, 4), "evidence": [e.as_dict() for e in evidence]})
                for e in evidence:
                    if e.seg is not None and tag not in segment_tags.setdefault(e.seg, []):
                        segment_tags[e.seg].append(tag)
            content = self._chunk_content[item.video_id]
            self.store.save_tags(item.video_id, self.library.version, self.settings_hash, tags, content, segment_tags)
            out.append(VideoTags(item.video_id, "done", tags))
        return out

    def _related(self, item: Recalled, content: dict[str, dict[str, float]], cands: dict[str, Candidate]) -> None:
        coll = self.store.collection(self.plan.video_rows)
        n = min(self.options.related_videos + 1, coll.count())
        got = coll.query(query_embeddings=[item.video_vec], n_results=n, include=["distances"])
        for vid, dist in zip(got["ids"][0], got["distances"][0], strict=True):
            sim = 1.0 - dist
            if vid == item.video_id or sim < self.options.related_min_similarity:
                continue
            theirs = content.get(vid)
            if theirs is None:
                stored = self.store.video_tags(vid)
                theirs = stored["content"] if stored and stored["library_version"] == self.library.version else {}
            for tag, score in theirs.items():
                value = sim * score
                cand = cands.setdefault(tag, Candidate())
                if value > cand.features.get("related", 0.0):
                    cand.evidence = [e for e in cand.evidence if e.channel != "related"]
                    cand.evidence.append(Evidence("related", value, vid))
                cand.bump("related", value)

    def _evidence(self, cand: Candidate) -> list[Evidence]:
        """The strongest pieces of evidence, weighed by what their channel adds to the score."""
        weight = self.ranker.weights
        ranked = sorted(cand.evidence, key=lambda e: -weight.get(e.channel, 0.0) * e.score)
        return ranked[: self.options.evidence_per_tag]


def select(cands: dict[str, Candidate], ranker: Ranker, k: int, min_score: float = 0.0) -> list[tuple[float, str]]:
    """The top `k` tags scoring at least `min_score`, best first, spread over the video: a tag whose
    strongest evidence is in a segment that already holds max(2, k / segments) of the chosen tags waits
    until every other tag has had its turn (a coffee scene read as coffee, cup, coffee cup and espresso
    must not crowd out the motorcycle in the next scene)."""
    ranked = sorted(((ranker.score(c.features), tag) for tag, c in cands.items()), key=lambda st: (-st[0], st[1]))
    ranked = [(s, t) for s, t in ranked if s > 0 and s >= min_score]
    home = {t: _home(cands[t], ranker) for _, t in ranked}
    segments = {seg for seg in home.values() if seg is not None}
    cap = max(2, -(-k // max(len(segments), 1)))
    chosen, waiting, held = [], [], {}
    for score, tag in ranked:
        seg = home[tag]
        if seg is not None and held.get(seg, 0) >= cap:
            waiting.append((score, tag))
            continue
        chosen.append((score, tag))
        held[seg] = held.get(seg, 0) + 1
    return sorted(chosen[:k] + waiting[: max(0, k - len(chosen))], key=lambda st: (-st[0], st[1]))


def _home(cand: Candidate, ranker: Ranker) -> int | None:
    """The segment of a tag's strongest evidence in a segment (None: it has only video-level evidence, a
    related video's). A near-duplicate's tags say nothing about where: taken as the home, they let every tag
    the duplicate shares skip the spreading (narrated_small's coffee, coffee cup, espresso and cat breed then
    pushed its rocket out of its ten tags)."""
    placed = [e for e in cand.evidence if e.seg is not None]
    best = max(placed, key=lambda e: ranker.weights.get(e.channel, 0.0) * e.score, default=None)
    return best.seg if best is not None else None


def recall_or_fail(recall: ContentRecall, video_id: str) -> Recalled | VideoTags:
    """One video's recall; an error becomes that video's failure, not the run's."""
    try:
        return recall.recall(video_id)
    except Exception as exc:  # one broken video must not stop a bulk run
        log.exception("%s: tag recall failed", video_id)
        return VideoTags(video_id, "failed", error=f"{video_id}: {type(exc).__name__}: {exc}")


def export(results: Sequence[VideoTags], paths: dict[str, str], out: str | Path) -> None:
    """Write results as JSONL (one video a line) or CSV (one tag a line), chosen by the file's suffix."""
    out = Path(out)
    if out.suffix.lower() == ".jsonl":
        lines = [json.dumps({**r.as_dict(), "path": paths.get(r.video_id)}, ensure_ascii=False) for r in results]
        out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["video_id", "path", "rank", "tag", "score", "channels", "evidence"])
    for r in results:
        for rank, t in enumerate(r.tags, 1):
            channels = ";".join(dict.fromkeys(e["channel"] for e in t["evidence"]))
            evidence = " | ".join(_evidence_text(e) for e in t["evidence"])
            writer.writerow([r.video_id, paths.get(r.video_id, ""), rank, t["tag"], t["score"], channels, evidence])
    out.write_text(buf.getvalue(), encoding="utf-8")


def _evidence_text(e: dict[str, Any]) -> str:
    where = f"@{e['start_s']:.2f}-{e['end_s']:.2f}s" if "start_s" in e else ""
    text = f" {e['text']!r}" if e.get("text") else ""
    return f"{e['channel']}:{e.get('source', '')}{where}{text}"
