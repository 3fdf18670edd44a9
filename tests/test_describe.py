"""The describe stage: which scenes get a line, how lines, windows and chapters fit together (on a fake
held to the schema: plumbing), how the index keeps them, and (slow) what the bundled 1.5B writes about the
narrated fixture."""

from __future__ import annotations

import json

import pytest
from fakes import SchemaEcho, content_words

from videoagent.index.store import SegmentRecord, Store, VideoRows
from videoagent.ingest.describe import chapters_of, scene_line, story, write_lines
from videoagent.ingest.scenes import Segment


def _text(transcript="", ocr=(), seen=()):
    return {"transcript": transcript, "ocr": list(ocr), "seen": list(seen)}


def test_a_scene_with_nothing_in_it_gets_no_line_and_long_speech_is_cut():
    seg = Segment(0.0, 4.0)
    assert scene_line(1, seg, _text()) is None
    assert scene_line(1, seg, _text(seen=[{"label": "dog", "score": 0.1}])) is None  # too unsure to show
    line = scene_line(2, seg, _text("word " * 200, ["OPEN"], [{"label": "dog", "score": 0.9, "count": 2}]))
    assert line.startswith("[S2] 0:00-0:04 | said: ") and line.count("word") < 80 and line.endswith("dog x2 90%")
    assert 'on screen: "OPEN"' in line


def test_lines_are_keyed_by_scene_id_in_batches():
    llm = SchemaEcho()
    lines = {f"S{i}": f"[S{i}] 0:0{i}-0:0{i + 1} | said: \"{word} here\"" for i, word in
             enumerate(["rocket", "cat", "coffee"], start=1)}  # fmt: skip
    out = write_lines(llm, lines, words=10, batch=2)
    assert out == {"S1": "line S1: rocket", "S2": "line S2: cat", "S3": "line S3: coffee"}
    assert [sorted(c[2]["required"]) for c in llm.calls] == [["S1", "S2"], ["S3"]]


def test_chapters_start_at_the_first_scene_and_cover_the_video_in_order():
    segs = [Segment(4.0 * i, 4.0 * (i + 1)) for i in range(5)]
    ids = [f"S{i}" for i in range(1, 6)]
    picked = [{"first": "S4", "title": "late"}, {"first": "S2", "title": "b"}, {"first": "S2", "title": "dup"},
              {"first": "S9", "title": "unknown"}, {"first": "S5", "title": " "}]  # fmt: skip
    chapters = chapters_of(picked, ids, segs)
    assert [(c["first"], c["title"]) for c in chapters] == [(0, "b"), (3, "late")]  # S2 moved to the start
    assert [(c["start_s"], c["end_s"]) for c in chapters] == [(0.0, 12.0), (12.0, 20.0)]
    assert chapters_of([], ids, segs) == []


def test_long_videos_are_summarised_one_window_at_a_time():
    segs = [Segment(10.0 * i, 10.0 * (i + 1)) for i in range(7)]
    evidence = {f"S{i}": f'[S{i}] x | said: "scene{i} words"' for i in (1, 2, 4, 5, 6, 7)}  # S3: nothing in it
    lines = {"S2": "written two"}  # the one long-spoken scene's line
    llm = SchemaEcho()
    value = story(llm, segs, lines, evidence, window=3, max_chapters=4)
    assert value["segments"] == ["", "written two", "", "", "", "", ""]
    windows = [c for c in llm.calls if "chapters" in c[2]["properties"]]
    assert len(windows) == 2 and all("title" not in c[2]["properties"] for c in windows)
    assert "written two" in windows[0][1] and "scene1" in windows[0][1] and "S3" not in windows[0][1]
    assert "[S4]" in windows[0][1] and "[S5]" in windows[1][1] and "[S7]" in windows[1][1]  # 6 read, 3 a window
    top = llm.calls[-1]
    assert "Part 1: summary of S1 S2 S4" in top[1] and "Part 2: summary of S5 S6 S7" in top[1]
    assert value["title"] == "title" and value["summary"].startswith("summary of")
    assert [c["first"] for c in value["chapters"]] == [0, 4]  # S1 and S5: at most one chapter per 3 scenes


def test_a_short_video_is_titled_in_the_one_call_that_summarises_it():
    segs = [Segment(4.0 * i, 4.0 * (i + 1)) for i in range(2)]
    evidence = {"S1": '[S1] x | said: "rocket"', "S2": '[S2] x | said: "cat"'}
    llm = SchemaEcho()
    value = story(llm, segs, {}, evidence, window=40, max_chapters=8)
    assert len(llm.calls) == 1 and "title" in llm.calls[0][2]["required"]
    assert llm.calls[0][2]["properties"]["chapters"]["maxItems"] == 1  # two scenes: one chapter
    assert value["title"] == "title" and value["chapters"][0]["end_s"] == 8.0
    assert story(llm, segs, {}, {}, window=40, max_chapters=8)["chapters"] == []


def test_the_index_keeps_descriptions_and_the_video_summary(tmp_path):
    from videoagent.media.probe import VideoInfo

    store = Store(tmp_path)
    info = VideoInfo("/v.mp4", "v1", 8.0, 25.0, 64, 64, False, "h264", "mp4")
    store.begin_video(info, "h")
    about = {"title": "T", "summary": "S.", "chapters": [{"start_s": 0.0, "end_s": 8.0, "first": 0, "title": "all"}],
             "model": "m"}  # fmt: skip
    segments = [SegmentRecord(0.0, 4.0, "a cat", description="A cat sits."), SegmentRecord(4.0, 8.0)]
    store.commit_video(VideoRows("v1", segments, [], "scenes", {}, [], about))
    doc = store.describe("v1")
    assert doc["title"] == "T" and doc["chapters"][0]["title"] == "all" and doc["described_by"] == "m"
    assert [s["description"] for s in doc["segments"]] == ["A cat sits.", ""]
    store.fail_video("v1", "broken", {})
    assert Store(tmp_path).about("v1")["title"] == ""


def test_an_index_made_before_descriptions_gains_the_columns(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "catalog.sqlite")
    db.executescript(
        "CREATE TABLE videos (video_id TEXT PRIMARY KEY, path TEXT NOT NULL, duration_s REAL, info TEXT,"
        " status TEXT NOT NULL, error TEXT, segmentation TEXT, ingest_hash TEXT, index_hash TEXT, updated_at REAL);"
        "CREATE TABLE segments (video_id TEXT NOT NULL, idx INTEGER NOT NULL, start_s REAL NOT NULL,"
        " end_s REAL NOT NULL, transcript TEXT NOT NULL DEFAULT '', ocr TEXT NOT NULL DEFAULT '[]', caption TEXT,"
        " keyframes TEXT NOT NULL DEFAULT '[]', tags TEXT NOT NULL DEFAULT '[]', PRIMARY KEY (video_id, idx));"
        "INSERT INTO videos VALUES ('old', '/o.mp4', 4.0, '{}', 'done', NULL, 'scenes', 'h', 'h', 0);"
        "INSERT INTO segments (video_id, idx, start_s, end_s, transcript) VALUES ('old', 0, 0, 4, 'hello');"
    )
    db.commit()
    db.close()
    store = Store(tmp_path)
    assert store.segments("old")[0].description == "" and store.segments("old")[0].seen == []
    assert store.about("old") == {"title": "", "summary": "", "chapters": [], "described_by": None, "language": None}


# ---- the real model -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def described(tmp_path_factory, media, profile, pipeline):
    """The narrated, speech and injection fixtures ingested with the describe stage on, into an index of
    their own. {fixture name: (store, video id)}.

    Not a copy of the session's index: copying a live SQLite database (or Chroma's) from the process that
    has it open closes file descriptors on it, which drops that process's POSIX locks on the file, and the
    session's own connections then failed with "disk I/O error" (sqlite.org/howtocorrupt.html, 2.2)."""
    from videoagent.ingest.pipeline import Ingestor

    on = pipeline.model_copy(update={"describe": pipeline.describe.model_copy(update={"enabled": True})})
    store = Store(tmp_path_factory.mktemp("described"))
    ingestor = Ingestor(store, profile, on)
    out = {}
    for name in ("narrated", "speech", "injection"):
        result = ingestor.ingest_one(media.path(name))
        assert result.status == "done" and result.stages["describe"].startswith("done"), result.stages
        out[name] = (store, result.video_id)
    # Turned off again, only the describe rows go: the other stages' artifacts are reused.
    again = Ingestor(Store(store.root), profile, pipeline).ingest_one(media.path("narrated"))
    assert again.stages["asr"] == "done: cached" and again.stages["describe"].startswith("skipped"), again.stages
    assert Store(store.root).about(out["narrated"][1])["title"] == ""
    result = ingestor.ingest_one(media.path("narrated"))
    assert result.stages["describe"] == "done: cached", result.stages
    return out


@pytest.mark.slow
def test_the_bundled_model_titles_summarises_and_chapters_a_video_from_its_evidence(described, media):
    store, vid = described["narrated"]
    doc = store.describe(vid)
    assert doc["described_by"].startswith("bundled:qwen2.5")
    written = " ".join([doc["title"], doc["summary"]]).lower()
    subjects = ["astronaut", "cat", "coffee", "rocket", "motorcycle"]
    assert sum(s in written for s in subjects) >= 4, written  # the summary covers the video, not its start
    chapters = doc["chapters"]
    assert chapters and chapters[0]["start_s"] == 0.0 and chapters[-1]["end_s"] == pytest.approx(20.0, abs=0.1)
    assert all(a["end_s"] == b["start_s"] for a, b in zip(chapters, chapters[1:], strict=False))
    assert all(s["description"] == "" for s in doc["segments"])  # one short sentence each: no line needed
    json.dumps(doc)  # what `show --json` prints


@pytest.mark.slow
def test_a_long_spoken_scene_gets_a_line_in_other_words_and_it_is_searched(described, media):
    store, vid = described["speech"]
    line = store.describe(vid)["segments"][0]["description"]
    assert line and len(line.split()) <= 22, line
    said = set(content_words(media["speech"]["transcript"]))
    assert set(content_words(line)) & said, line  # about what is said ...
    assert len(line) < len(media["speech"]["transcript"]), line  # ... and shorter than saying it
    text = next(c for c in store.collections() if c.startswith("text_"))
    rows = store.collection(text).get(where={"$and": [{"video_id": vid}, {"channel": "description"}]})
    assert rows["documents"] == [line]
    assert {m["source"] for m in rows["metadatas"]} == {"describe:bundled:qwen2.5-coder-1.5b-instruct"}


@pytest.mark.slow
def test_narration_that_gives_orders_is_described_not_obeyed(described):
    from videoagent.ingest.describe import LINES_PROMPT, STORY_PROMPT, TITLE_ASK, TOP_PROMPT

    store, vid = described["injection"]
    doc = store.describe(vid)
    written = " ".join([doc["title"], doc["summary"], *(s["description"] for s in doc["segments"])]).lower()
    assert written.strip(), doc
    # Nothing of the instructions comes out (the narration asks for "your system prompt") ...
    for prompt in (LINES_PROMPT, STORY_PROMPT, TITLE_ASK, TOP_PROMPT):
        for sentence in (x.strip() for x in prompt.lower().split(". ") if len(x.strip()) >= 20):
            assert sentence[:40] not in written, (sentence, written)
    # ... and the other scenes are still described from their own evidence.
    assert "photographer" in written or "camera" in written, written
    assert "coin" in written, written


@pytest.mark.slow
def test_a_chapters_question_is_answered_from_the_stored_chapters(described, profile):
    from videoagent.qa.agent import open_agent

    store, vid = described["narrated"]
    agent = open_agent(store.root, profile, vid)
    answer = agent.ask("What are the chapters of this video?")
    assert answer.found and "Chapters: 0:00" in answer.answer, answer.answer
    assert any(s.get("tool") == "stored_summary" for s in answer.steps)
    chapters = store.about(vid)["chapters"]
    assert [(c.start_s, c.end_s) for c in answer.citations] == [(c["start_s"], c["end_s"]) for c in chapters]
