"""The QA logic with no real model: the grounded planner's choices and refusals, follow-ups, the
tool-calling planner's retries, and the `ask`/`chat` --json contract.

The index is written straight through the Store (segments and vector rows, as ingest writes them) with
the doubles of tests/fakes.py: hashed-word vectors, scripted scores and replies. So these check plumbing
and rules (which span is cited, when the planner refuses, what the CLI prints), not answer quality;
tests/test_agent.py and tests/test_ask_cli.py ask the real bundled LLM about real ingests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import HashedWords, ScriptedChatModel, ScriptedScorer, ScriptedWriter
from langchain_core.messages import AIMessage
from typer.testing import CliRunner

from videoagent.cli import app
from videoagent.index.collections import collection_name
from videoagent.index.store import SegmentRecord, Store, VectorRows, VideoRows
from videoagent.index.view import IndexView
from videoagent.media.probe import VideoInfo
from videoagent.models.registry import Models
from videoagent.qa.agent import Agent, open_agent
from videoagent.qa.answerer import AnsweringPlanner
from videoagent.qa.planner import NOT_FOUND, Citation, GroundedPlanner
from videoagent.qa.scenes import Scene
from videoagent.qa.tool_agent import ToolCallingPlanner

VIDEO, OTHER = "ca7e5c3a1e00d1a1", "ca70b0b0c0c0e0f0"  # ids as ingest makes them; "ca7" is a prefix of both
SCENES = [  # the narrated fixture's story, 4 s a scene
    SegmentRecord(0.0, 4.0, "An astronaut poses in front of the flag."),
    SegmentRecord(4.0, 8.0, "A tabby cat rests on a soft blanket.", ["CAT CAFE OPEN"]),
    SegmentRecord(8.0, 12.0, "A cup of hot coffee sits on a red saucer."),
    SegmentRecord(12.0, 16.0, "The rocket stands on the launch pad at dusk.", ["LAUNCH DAY 2026"]),
    SegmentRecord(16.0, 20.0, "A red motorcycle is parked in the garage."),
]
# Another video about a cat: answers about VIDEO must never cite it.
OTHER_SCENES = [SegmentRecord(0.0, 5.0, "A grey cat rests on the sofa."), SegmentRecord(5.0, 9.0, "It starts to rain.")]
# One 75 s shot, indexed as three 25 s segments (the scenes stage splits long shots), then a 5 s shot.
LONG = "10a9c0ffee000001"
LONG_SCENES = [SegmentRecord(25.0 * i, 25.0 * (i + 1), "people walk across a lawn", shot=0) for i in range(3)] + [
    SegmentRecord(75.0, 80.0, "a van drives past", shot=1)
]


def write_video(store: Store, encoder: HashedWords, video_id: str, scenes: list[SegmentRecord]) -> None:
    """One done video, its rows as ingest writes them (ingest/pipeline.py `assemble`)."""
    end = scenes[-1].end_s
    info = VideoInfo(f"/videos/{video_id}.mp4", video_id, end, 25.0, 320, 240, True, "h264", "mp4")
    store.begin_video(info, ingest_hash="fake")
    rows = VectorRows(collection_name("text", encoder.name))
    for i, seg in enumerate(scenes):
        for channel, text in (("transcript", seg.transcript), ("ocr", " | ".join(seg.ocr))):
            if text:
                rows.add(f"{video_id}:{i}:{channel}", encoder.encode([text])[0], text, video_id=video_id, seg=i,
                         start_s=seg.start_s, end_s=seg.end_s, channel=channel)  # fmt: skip
    store.commit_video(VideoRows(video_id, scenes, [rows], "scenes", {"asr": "done", "ocr": "done"}, []))


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    store = Store(tmp_path_factory.mktemp("tiny-index"))
    write_video(store, HashedWords(), VIDEO, SCENES)
    write_video(store, HashedWords(), OTHER, OTHER_SCENES)
    write_video(store, HashedWords(), LONG, LONG_SCENES)
    store.close()
    return store.root


@pytest.fixture
def models(monkeypatch, profile) -> Models:
    """The default profile's model set with fakes in the roles QA uses, for everything that asks
    `Models.shared` (the Library, the CLI, `open_agent`). Put the chat model in `_cache["llm"]`."""
    fake = Models(profile)
    fake._cache.update(text_encoder=HashedWords(), frame_encoder=None, llm=ScriptedScorer())
    monkeypatch.setattr(Models, "shared", classmethod(lambda cls, profile, threads=None: fake))
    return fake


def spans(answer) -> list[tuple[str, float, float]]:
    return [(c.video_id, c.start_s, c.end_s) for c in answer.citations]


def tools(answer) -> list[str]:
    return [s["tool"] for s in answer.steps]


# ---- the grounded planner ------------------------------------------------------------------------
def test_the_short_answer_cites_its_evidence_line(index, models, profile):
    models._cache["llm"] = scorer = ScriptedScorer(["a soft blanket"])
    agent = open_agent(index, profile, VIDEO[:6])
    assert isinstance(agent.planner, GroundedPlanner) and agent.video_id == VIDEO
    answer = agent.ask("What is the cat resting on?")
    assert answer.answer == 'a soft blanket (4.0-8.0 s: "A tabby cat rests on a soft blanket.")'
    assert spans(answer) == [(VIDEO, 4.0, 8.0)] and answer.found
    assert tools(answer)[:2] == ["search_segments", "choose_tool"] and tools(answer)[-1] == "timing"
    # The model was shown the chosen line as quoted evidence, with the question.
    (prompt,) = scorer.prompts
    assert '"A tabby cat rests on a soft blanket."' in prompt and "What is the cat resting on?" in prompt


def test_a_reply_the_line_does_not_back_is_replaced_by_the_quote(index, models, profile):
    models._cache["llm"] = ScriptedScorer(["on a red velvet sofa"])
    answer = open_agent(index, profile, VIDEO).ask("What is the cat resting on?")
    assert answer.answer == '4.0-8.0 s: "A tabby cat rests on a soft blanket."'
    assert spans(answer) == [(VIDEO, 4.0, 8.0)]
    checks = [s for s in answer.steps if s["tool"] == "check_support"]
    assert [c["grounded"] for c in checks] == [True, False] and checks[1]["answer"] == "on a red velvet sofa"


def test_on_screen_text_is_copied_not_generated(index, models, profile):
    scorer = models._cache["llm"]
    answer = open_agent(index, profile, VIDEO).ask("What does the sign in the cat scene say?")
    assert answer.answer == 'The on-screen text reads "CAT CAFE OPEN" (4.0-8.0 s).'
    assert spans(answer) == [(VIDEO, 4.0, 8.0)]
    assert scorer.prompts == []  # nothing was generated
    assert any(s["tool"] == "keep_on_screen_text" for s in answer.steps)


def test_nothing_in_the_video_is_refused(index, models, profile):
    answer = open_agent(index, profile, VIDEO).ask("What does the chef cook?")
    assert answer.answer == NOT_FOUND and answer.citations == [] and not answer.found
    (scored,) = [s for s in answer.steps if s["tool"] == "score_evidence"]
    assert scored["score"] < scored["cutoff"] == profile.llm.cutoff


def test_a_line_that_cannot_answer_is_refused(index, models, profile):
    """The astronaut line scores well, but names no city: no answer, and nothing is generated."""
    scorer = models._cache["llm"]
    answer = open_agent(index, profile, VIDEO).ask("Which city is the astronaut in?")
    assert answer.answer == NOT_FOUND and answer.citations == []
    (scored,) = [s for s in answer.steps if s["tool"] == "score_evidence"]
    assert scored["span"] == [0.0, 4.0] and scored["score"] >= scored["cutoff"]
    (checked,) = [s for s in answer.steps if s["tool"] == "check_support"]
    assert not checked["grounded"] and "name" in checked["reason"]
    assert scorer.prompts == []


def test_follow_ups_walk_the_scenes_from_the_last_cited_span(index, models, profile):
    models._cache["llm"] = ScriptedScorer(["a soft blanket", "in the garage"])
    agent = open_agent(index, profile, VIDEO)
    agent.ask("What is the cat resting on?")
    after = agent.ask("and what happens after that?")
    assert spans(after) == [(VIDEO, 8.0, 12.0)] and "coffee" in after.answer
    assert after.steps[0] == {"tool": "resolve_follow_up", "direction": "after", "window": [8.0, 20.0]}
    before = agent.ask("and before that?")
    assert spans(before) == [(VIDEO, 4.0, 8.0)] and "CAT CAFE OPEN" in before.answer
    last = agent.ask("Where is the motorcycle parked?")
    assert spans(last) == [(VIDEO, 16.0, 20.0)]
    end = agent.ask("and then?")
    assert end.citations == [] and not end.found and "end of the video" in end.answer
    assert len(agent.history) == 5


# ---- the answering planner -----------------------------------------------------------------------
def writer_agent(index, models, profile, replies) -> tuple[Agent, ScriptedWriter]:
    models._cache["llm"] = writer = ScriptedWriter(replies=replies)
    agent = open_agent(index, profile, VIDEO)
    assert isinstance(agent.planner, AnsweringPlanner)  # planner: auto, for a model that cannot score
    return agent, writer


def test_the_model_reads_the_scene_list_as_data_and_its_ids_become_spans(index, models, profile):
    agent, writer = writer_agent(index, models, profile, ["The cat lies on a soft blanket. [S2]"])
    answer = agent.ask("What is the cat resting on?")
    assert answer.answer == "The cat lies on a soft blanket. [4.0-8.0 s]" and answer.found
    assert spans(answer) == [(VIDEO, 4.0, 8.0)]
    ((role, system), (_, asked)) = writer.calls[0]
    assert role == "system" and "never instructions" in system
    assert '[S2] 0:04-0:08 | said: "A tabby cat rests on a soft blanket." | on screen: "CAT CAFE OPEN"' in system
    assert "A grey cat" not in system  # only this video's scenes
    assert asked == "What is the cat resting on?"


def test_a_wrong_scene_id_is_replaced_by_the_scene_that_backs_the_answer(index, models, profile):
    agent, _ = writer_agent(index, models, profile, ["The motorcycle is parked in the garage. [S1]"])
    answer = agent.ask("Where is the motorcycle parked?")
    assert spans(answer) == [(VIDEO, 16.0, 20.0)]
    (check,) = [s for s in answer.steps if s["tool"] == "check_citations"]
    assert check["kept"] == ["S5"] and "S1" in check["dropped"]


def test_an_answer_no_scene_backs_is_refused(index, models, profile):
    """An invented detail (a colour no scene names) is not passed on, whatever the model cites."""
    agent, _ = writer_agent(index, models, profile, ["The cat wears a Blue collar. [S2]"])
    answer = agent.ask("What color is the cat's collar?")
    assert answer.answer == NOT_FOUND and not answer.found and answer.citations == []


def test_what_ends_a_scene_may_open_the_next_one_and_both_are_cited(index, models, profile):
    """ "The countdown ends with Lift off": the scene named and the one after it that answers, together."""
    agent, _ = writer_agent(index, models, profile, ["It ends with a cup of hot coffee. [S3]"] * 2)
    answer = agent.ask("What is shown at the end of the cat scene?")
    assert answer.found and spans(answer) == [(VIDEO, 4.0, 8.0), (VIDEO, 8.0, 12.0)]
    agent.reset()
    elsewhere = agent.ask("What is the cat drinking?")  # not what ends it: the coffee scene holds no cat
    assert not elsewhere.found and elsewhere.citations == []


def test_a_reply_that_is_only_a_scene_id_is_told_from_that_scene_and_still_checked(index, models, profile):
    agent, _ = writer_agent(index, models, profile, ["[S3]", "[S2]"])
    answer = agent.ask("Which scene has a hot drink?")
    assert answer.found and spans(answer) == [(VIDEO, 8.0, 12.0)] and "hot coffee" in answer.answer
    refused = agent.ask("Which scene shows a dog?")  # the cited scene's evidence does not back it
    assert refused.answer == NOT_FOUND and refused.citations == []


def test_the_model_saying_it_is_not_there_is_a_refusal(index, models, profile):
    agent, _ = writer_agent(index, models, profile, [NOT_FOUND])
    answer = agent.ask("What does the chef cook?")
    assert answer.answer == NOT_FOUND and not answer.found and answer.citations == []


def test_counts_and_edges_come_from_the_index_not_the_model(index, models, profile):
    agent, writer = writer_agent(index, models, profile, [])
    count = agent.ask("How many scenes are in this video?")
    assert count.answer.startswith("The video has 5 scenes: 0:00-0:04; 0:04-0:08") and len(count.citations) == 5
    late = agent.ask("What is shown at 0:45?")
    assert not late.found and "0:20 long" in late.answer
    tenth = agent.ask("What happens in the tenth scene?")
    assert not tenth.found and "only 5 scenes" in tenth.answer
    assert writer.calls == []  # none of these needed the model


def test_scenes_are_counted_as_shots_not_as_the_segments_a_long_shot_is_split_into(index, models, profile):
    models._cache["llm"] = writer = ScriptedWriter(replies=[])
    count = open_agent(index, profile, LONG).ask("How many shots does this video have?")
    assert count.answer.startswith("The video has 2 scenes: 0:00-1:15; 1:15-1:20 (indexed as 4 segments")
    assert spans(count) == [(LONG, 0.0, 75.0), (LONG, 75.0, 80.0)] and writer.calls == []


@pytest.mark.parametrize(
    ("question", "index"),
    [
        ("What is the first thing shown?", 0),
        ("What is shown first?", 0),
        ("What comes last in the video?", -1),
        ("What do we see second?", 1),
        ("What is said at the very end?", -1),
        ("What is said first?", 0),
        ("What is written last in this video?", -1),
        ("What is heard second?", 1),
        ("Who comes first in line?", None),  # an order inside the picture, not of the scenes
        ("Is the cat shown for a second?", None),
    ],
)
def test_a_scene_named_by_its_place_in_other_words(question, index):
    from videoagent.qa import forms

    form = forms.read(question)
    assert (form.kind, form.index) == (("ordinal", index) if index is not None else ("lookup", None))


def test_the_middle_scene_is_picked_by_the_code(index, models, profile):
    from videoagent.qa import forms

    assert forms.read("What is in the middle scene?").middle
    assert forms.read("What happens in the middle of the video?").middle
    assert forms.read("What is in the middle of the frame?").kind == "lookup"  # a place in the picture
    agent, writer = writer_agent(index, models, profile, ["A cup of hot coffee on a red saucer. [S1]"])
    middle = agent.ask("What is in the middle scene?")  # of five scenes: the third; the model cited S1
    assert spans(middle) == [(VIDEO, 8.0, 12.0)] and "coffee" in middle.answer
    assert "(This question is about scene S3 (0:08-0:12)" in writer.calls[0][-1][1]


def test_people_are_counted_from_faces_when_no_whole_person_was_tracked(index, models, profile, monkeypatch):
    agent, writer = writer_agent(index, models, profile, [])
    face = {"video_id": VIDEO, "start_s": 0.25, "end_s": 3.75, "category": "face"}
    listed = {"person": [], "face": [face]}
    monkeypatch.setattr(
        agent.planner.view,
        "list_tracklets",
        lambda video_id, category=None: {"available": True, "count": 1, "tracklets": listed[category]},
    )
    count = agent.ask("How many people are there?")
    assert count.answer.startswith("1 face tracklet") and spans(count) == [(VIDEO, 0.25, 3.75)]
    listed["face"] = []
    assert agent.ask("How many people are there?").answer == "No person was tracked in this video."
    assert writer.calls == []


def test_a_moment_a_place_and_a_neighbour_are_picked_by_the_code(index, models, profile):
    replies = ["A cup of coffee on a red saucer. [S3]", "A rocket on the launch pad. [S4]", "A red motorcycle. [S1]"]
    agent, writer = writer_agent(index, models, profile, replies)
    at = agent.ask("What is shown at 0:10?")
    after = agent.ask("What comes right after the coffee?")
    last = agent.ask("What is in the last scene?")
    assert [spans(a) for a in (at, after, last)] == [[(VIDEO, 8.0, 12.0)], [(VIDEO, 12.0, 16.0)], [(VIDEO, 16.0, 20.0)]]
    assert "(This question is about scene S3 (0:08-0:12)" in writer.calls[0][-1][1]
    neighbour = next(s for s in after.steps if s["tool"] == "neighbour")
    assert neighbour == {"tool": "neighbour", "direction": "after", "of": "S3", "scene": "S4"}
    # the model cited S1 for the last scene; the code knows which scene it is, and its words back it
    assert "motorcycle" in last.answer


def test_a_refused_moment_or_place_is_told_from_its_scene_but_a_thing_in_it_stays_refused(index, models, profile):
    agent, writer = writer_agent(index, models, profile, [NOT_FOUND] * 4)
    at = agent.ask("What is shown at 0:17?")  # the code knows the scene: what it holds is the answer
    before = agent.ask("What comes right before the coffee?")
    just = agent.ask("What comes just before the motorcycle?")
    dog = agent.ask("Is there a dog in the last scene?")  # asks for one thing: the model may rightly refuse
    assert at.found and spans(at) == [(VIDEO, 16.0, 20.0)] and "A red motorcycle is parked" in at.answer
    assert before.found and spans(before) == [(VIDEO, 4.0, 8.0)] and "CAT CAFE OPEN" in before.answer
    assert just.found and spans(just) == [(VIDEO, 12.0, 16.0)] and "LAUNCH DAY" in just.answer
    assert not dog.found and dog.citations == [] and len(writer.calls) == 4


def test_follow_ups_go_to_the_model_as_a_conversation_and_that_means_the_last_cited_scene(index, models, profile):
    replies = ["A soft blanket. [S2]", "A cup of hot coffee on a red saucer. [S3]", "It is red. [S3]"]
    agent, writer = writer_agent(index, models, profile, replies)
    agent.ask("What is the cat resting on?")
    after = agent.ask("And what comes right after that?")
    colour = agent.ask("What color is the saucer there?")
    assert spans(after) == [(VIDEO, 8.0, 12.0)] and spans(colour) == [(VIDEO, 8.0, 12.0)]
    assert next(s for s in after.steps if s["tool"] == "resolve_reference")["scene"] == "S2"
    third = writer.calls[2]
    assert [role for role, _ in third] == ["system", "human", "ai", "human", "ai", "human"]
    assert third[2][1] == "A soft blanket. [S2]" and third[1][1] == "What is the cat resting on?"
    end = agent.ask("What is the motorcycle's brand?")  # no reply scripted: the model says nothing
    assert not end.found
    agent.reset()
    assert agent.history == []
    first = agent.ask("And what comes after that?")  # nothing to refer to: read against the whole list
    assert next(s for s in first.steps if s["tool"] == "read_question")["form"]["kind"] == "relative"
    assert not any(s["tool"] == "neighbour" for s in first.steps)


def test_the_nothing_after_the_last_scene_is_said_without_the_model(index, models, profile):
    agent, writer = writer_agent(index, models, profile, ["A red motorcycle in the garage. [S5]"])
    agent.ask("What is parked in the garage?")
    after = agent.ask("What comes next?")
    assert not after.found and "last scene" in after.answer and len(writer.calls) == 1


def test_a_summary_cites_the_scenes_it_names(index, models, profile):
    reply = "An astronaut poses by a flag, a cat rests on a blanket, and a motorcycle is parked. [S1] [S2] [S5]"
    agent, writer = writer_agent(index, models, profile, [reply])
    answer = agent.ask("Summarize this video.")
    assert spans(answer) == [(VIDEO, 0.0, 4.0), (VIDEO, 4.0, 8.0), (VIDEO, 16.0, 20.0)]
    assert "Summarize the whole video" in writer.calls[0][-1][1]


def test_a_summary_the_model_refuses_is_listed_scene_by_scene(index, models, profile):
    agent, _ = writer_agent(index, models, profile, ["This video holds no evidence about that."])
    answer = agent.ask("Summarize this video.")
    assert answer.found and answer.answer.startswith("Scene by scene: 0:00-0:04 ")
    assert "A tabby cat rests on a soft blanket" in answer.answer and len(answer.citations) == 5
    assert any(s["tool"] == "list_scenes" for s in answer.steps)


def test_what_a_summary_invents_is_cut_and_nothing_is_added(index, models, profile):
    """The 1.5B's summaries of a silent video's labels were full of props and actions ("two children eating
    ice cream on a bench"); over the narrated one it framed "a space mission". What no scene holds is cut."""
    reply = "This video shows a space station, a cat resting on a blanket, and a motorcycle driving fast. [S2] [S5]"
    agent, _ = writer_agent(index, models, profile, [reply])
    answer = agent.ask("Summarize this video.")
    assert answer.answer.startswith("This video shows a cat resting on a blanket, and a motorcycle. [")
    assert spans(answer) == [(VIDEO, 4.0, 8.0), (VIDEO, 16.0, 20.0)]
    (check,) = [s for s in answer.steps if s["tool"] == "check_summary"]
    assert check["cut"][0]["not_in_the_video"] == ["space", "station", "drive"]
    agent, _ = writer_agent(index, models, profile, ["A space mission. The scenes are [S1], [S2]."])
    listed = agent.ask("Summarize this video.")  # nothing left: the code lists the scenes
    assert listed.answer.startswith("Scene by scene: ") and len(listed.citations) == 5


def test_unbacked_pieces_are_cut_at_their_first_unbacked_word():
    from videoagent.qa import grounding

    seen = ["dog 90%, Samoyed 66%", "car x2 65%; setting: street 46%", "person x8 72%; setting: crowd 65%"]
    invented = "This video shows a dog running across a park, two children eating ice cream, and a car on a street."
    assert grounding.without_unbacked(invented, seen) == "This video shows a dog, and a car on a street."
    framed = "It shows a series of scenes about a space mission, including a dog and a crowd of people walking."
    assert grounding.without_unbacked(framed, seen) == "It shows a dog and a crowd of people."
    assert grounding.without_unbacked("A space mission unfolds.", seen) == ""
    assert grounding.unbacked_things("A Samoyed, an animal, beside cars in a street.", seen) == []  # kinds count
    assert not grounding.says_something("The scenes are.") and not grounding.says_something("two")


def test_the_scenes_asked_for_one_by_one_are_listed_by_the_code():
    from videoagent.qa import forms

    for q in ("List the scenes.", "Go through the shots one by one.", "Give me a scene-by-scene breakdown."):
        assert forms.read(q) == forms.Form("count", counts="scenes", each=True), q
    assert not forms.read("How many scenes are there?").each and forms.read("Summarize the video.").kind == "summary"


def test_where_a_yes_no_question_looks_is_not_what_the_scene_must_hold():
    from videoagent.qa import grounding

    assert grounding.backs("Is there a dog in the first scene?", "Yes, there is a dog.", "dog Samoyed").grounded
    assert not grounding.backs("Is there a cat in the first scene?", "Yes, there is a cat.", "dog Samoyed").grounded


def test_going_on_is_a_summary_hear_asks_what_is_said_and_come_first_is_where_it_looks():
    from videoagent.qa import forms, grounding

    assert forms.read(forms.plain("What's going on in this video?")).kind == "summary"
    assert forms.read("What do you hear in the clip?").kind == "said" == forms.read("What can you hear?").kind
    assert forms.read("What did you hear about the rocket?").kind == "lookup"  # about a thing: a look-up
    assert grounding.question_subjects("Does the countdown come first?") == {"countdown"}
    assert grounding.stated("Does the countdown come first?", "3, 2, 1. countdown") == ("Yes", "countdown")


def test_a_yes_no_about_an_action_is_stated_only_by_a_sentence_that_says_it():
    from videoagent.qa import forms, grounding

    cat = "A tabby cat rests on a soft blanket. CAT CAFE OPEN animal, mammal, cat"
    assert grounding.stated("Is the cat sleeping?", cat) is None  # to WordNet a rest is a kind of sleep
    assert grounding.stated("Is the cat lying on a blanket?", cat)[0] == "Yes"  # "rests" shares a sense
    worn = "clothing garment necktie car face"
    assert grounding.backs("What is the person wearing?", "A necktie.", worn).grounded
    camera = "A photographer stands in a field with his camera."
    assert not grounding.backs("What is the photographer wearing?", "A camera.", camera).grounded
    assert forms.read("Which scenes have text on screen?").kind == "any_text"


# ---- the tool-calling planner --------------------------------------------------------------------
def test_tool_calling_planner_retries_malformed_calls(index):
    script = iter(
        [
            AIMessage(
                "",
                invalid_tool_calls=[
                    {
                        "name": "get_transcript",
                        "args": "{start_s: oops",
                        "id": "c1",
                        "error": "bad json",
                        "type": "invalid_tool_call",
                    }
                ],
            ),
            AIMessage(
                "",
                tool_calls=[{"name": "get_transcript", "args": {"video": VIDEO, "start_s": 9, "end_s": 2}, "id": "c2"}],
            ),
            AIMessage(
                "",
                tool_calls=[
                    {"name": "get_transcript", "args": {"video": VIDEO[:8], "start_s": 16, "end_s": 20}, "id": "c3"}
                ],
            ),
            AIMessage("The motorcycle is parked in the garage (16-20 s)."),
        ]
    )
    planner = ToolCallingPlanner(ScriptedChatModel(messages=script), IndexView(index))
    answer = Agent(planner, planner.view, VIDEO).ask("Where is the motorcycle parked?")
    errors = [s for s in answer.steps if "error" in s]
    assert len(errors) >= 2  # the unparsable call and the reversed span were both refused, then retried
    assert "garage" in answer.answer
    assert [(c.start_s, c.end_s) for c in answer.citations] == [(16.0, 20.0)]


def test_tool_results_that_outgrow_the_context_end_in_a_refusal_not_a_crash(index):
    from videoagent.errors import ContextFull

    class Overflowing(ScriptedChatModel):
        def _generate(self, *args, **kwargs):
            raise ContextFull("model.gguf: the request (4650 tokens) exceeds the model's context (4096 tokens)")

    planner = ToolCallingPlanner(Overflowing(messages=iter([])), IndexView(index))
    answer = Agent(planner, planner.view, VIDEO).ask("List everything said in every scene.")
    assert not answer.found and answer.citations == []
    assert answer.steps[0] == {"tool": "context_full", "error": "model.gguf: the request (4650 tokens) exceeds "
                               "the model's context (4096 tokens)"}  # fmt: skip


# ---- the command line ----------------------------------------------------------------------------
def invoke(*args, input: str | None = None):
    result = CliRunner().invoke(app, list(map(str, args)), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_ask_json_is_one_document_citing_the_segment(index, models):
    code, stdout, _ = invoke("ask", VIDEO[:8], "What does the sign in the cat scene say?", "--index", index, "--json")
    assert code == 0 and len(stdout.splitlines()) == 1
    doc = json.loads(stdout)
    assert set(doc) == {"answer", "citations", "steps"}
    assert "CAT CAFE OPEN" in doc["answer"]
    assert doc["citations"] == [{"video_id": VIDEO, "start_s": 4.0, "end_s": 8.0}]
    assert all("tool" in step for step in doc["steps"])


def test_ask_json_refusal_cites_nothing(index, models):
    code, stdout, _ = invoke("ask", VIDEO, "What does the chef cook?", "--index", index, "--json")
    assert code == 0
    doc = json.loads(stdout)
    assert doc["answer"] == NOT_FOUND and doc["citations"] == []


@pytest.mark.parametrize(
    ("video", "question", "needle"),
    [
        ("ffffffffffffffff", "anything?", "ffffffffffffffff"),  # no such video
        ("ca7", "anything?", "no such video"),  # a prefix of both videos
        (VIDEO, "   ", "question is empty"),
    ],
)
def test_ask_bad_input_exits_2_with_one_line(index, models, video, question, needle):
    code, stdout, stderr = invoke("ask", video, question, "--index", index, "--json")
    assert code == 2 and stdout == "" and needle in stderr and len(stderr.strip().splitlines()) == 1


def test_ask_without_an_index_exits_2(tmp_path, models):
    code, stdout, stderr = invoke("ask", VIDEO, "anything?", "--index", tmp_path / "nowhere", "--json")
    assert code == 2 and stdout == "" and "no index here" in stderr


def test_chat_keeps_history_and_quits(index, models):
    models._cache["llm"] = ScriptedScorer(["a soft blanket"])
    turns = "What is the cat resting on?\n\nand what happens after that?\n/quit\nWhat is never asked?\n"
    code, stdout, _ = invoke("chat", VIDEO, "--index", index, "--json", input=turns)
    assert code == 0
    docs = [json.loads(line) for line in stdout.splitlines()]
    assert [d["question"] for d in docs] == ["What is the cat resting on?", "and what happens after that?"]
    assert docs[0]["citations"] == [{"video_id": VIDEO, "start_s": 4.0, "end_s": 8.0}]
    assert docs[1]["citations"] == [{"video_id": VIDEO, "start_s": 8.0, "end_s": 12.0}]


def test_the_openai_profile_gets_the_tool_calling_planner(index, models):
    """`planner: tools` (the openai profile): tool calls, citations from the tools' rows."""
    call = {"name": "get_ocr", "args": {"video": VIDEO, "start_s": 4, "end_s": 8}, "id": "c1"}
    script = [AIMessage("", tool_calls=[call]), AIMessage("The sign reads CAT CAFE OPEN.")]
    models._cache["llm"] = ScriptedChatModel(messages=iter(script))
    code, stdout, _ = invoke("ask", VIDEO, "What does the sign say?", "--index", index, "--json", "--profile", "openai")
    assert code == 0
    doc = json.loads(stdout)
    assert doc["answer"] == "The sign reads CAT CAFE OPEN."
    assert doc["citations"] == [{"video_id": VIDEO, "start_s": 4.0, "end_s": 8.0}]
    assert [s["tool"] for s in doc["steps"]] == ["get_ocr", "timing"]


# ---- chat sessions over HTTP ---------------------------------------------------------------------
def test_sessions_are_bounded_in_number_and_idle_time():
    from videoagent.server.sessions import Sessions

    now = [0.0]
    sessions = Sessions(limit=2, idle_s=60, clock=lambda: now[0])
    made: list[str] = []

    def start(video):
        return lambda: made.append(video) or Agent(None, None, video)

    a = sessions.get("a", VIDEO, start(VIDEO))
    assert sessions.get("a", VIDEO, start(VIDEO)) is a and made == [VIDEO]  # kept
    assert sessions.get("a", OTHER, start(OTHER)) is not a  # a session follows one video
    sessions.get("b", VIDEO, start(VIDEO))
    sessions.get("c", VIDEO, start(VIDEO))
    assert len(sessions) == 2 and not sessions.drop("a")  # the least recently used went first
    now[0] = 61.0
    assert len(sessions) == 0  # idle too long


def test_a_session_remembers_until_it_is_deleted(index, models):
    from fastapi.testclient import TestClient

    from videoagent.server import create_app

    replies = ["A soft blanket. [S2]", "A cup of coffee. [S3]", "A cup of coffee. [S3]"]
    models._cache["llm"] = ScriptedWriter(replies=replies)
    client = TestClient(create_app(index))
    ask = {"video_id": VIDEO, "question": "What is the cat resting on?", "session": "s1"}
    assert client.post("/ask", json=ask).json()["citations"][0]["start_s"] == 4.0
    then = client.post("/ask", json=ask | {"question": "And what comes right after that?"}).json()
    assert then["citations"] == [{"video_id": VIDEO, "start_s": 8.0, "end_s": 12.0}]
    assert client.delete("/sessions/s1").status_code == 204
    assert client.delete("/sessions/s1").status_code == 404
    fresh = client.post("/ask", json=ask | {"question": "And what comes right after that?"}).json()
    assert not any(s["tool"] == "resolve_reference" for s in fresh["steps"])  # nothing left to refer to
    assert client.post("/ask", json=ask | {"question": "   "}).status_code == 400


def test_a_silent_scene_says_the_setting_its_labels_imply():
    from videoagent.qa.scenes import seen_text

    rows = [{"label": "grey whale", "score": 0.48}, {"label": "coral reef", "score": 0.2}]
    # coral reef -> sea 0.6 x 0.2 = 12%: below the 15% a scene line shows
    assert seen_text(None, rows) == "grey whale 48%, coral reef 20%; setting: underwater 38%"
    assert seen_text(None, rows, told=True) == "grey whale 48%"  # speech carries a told scene


def test_a_setting_implies_the_settings_it_is_part_of_and_outdoors_opposes_indoors():
    from videoagent.ingest.labels import implied_settings, setting_rules
    from videoagent.qa import grounding
    from videoagent.qa.scenes import seen_text

    rows = [{"label": "person", "score": 0.72, "count": 8}, {"label": "car", "score": 0.6, "count": 2}]
    assert seen_text(None, rows) == "person x8 72%, car x2 60%; setting: crowd 65%, street 42%, outdoors 34%"
    assert [r["label"] for r in implied_settings([{"label": "street sign", "score": 0.5}])] == [
        "city", "street", "outdoors"
    ]  # fmt: skip
    assert [name for name, _, _ in setting_rules()["street sign"]].count("outdoors") == 1  # one path counted
    assert "street" not in setting_rules()  # a setting is no label
    held = grounding.lemmas(seen_text(None, rows))
    assert grounding.opposed("indoors", held) and grounding.opposed("inside", held)
    assert not grounding.opposed("outdoors", held)
    scene = Scene("S1", 0.0, 26.5, "", (), seen_text(None, rows))
    assert grounding.backs("Was this filmed indoors?", "No, it was filmed outdoors.", scene.text()).grounded


def test_a_label_score_is_not_a_number_the_video_gives():
    from videoagent.qa import grounding
    from videoagent.qa.scenes import Scene

    scene = Scene("S3", 8.0, 12.0, "A cup of hot coffee sits on a red saucer.", (), "coffee 92%, espresso 92%")
    assert not grounding.backs("What is the price of the coffee?", "The coffee costs $92.", scene.text()).grounded
    assert grounding.backs("What is on the saucer?", "A cup of coffee, an espresso.", scene.text()).grounded


def test_a_reply_that_is_only_the_id_of_a_labelled_scene_is_told_from_it(index, models, profile, monkeypatch):
    from videoagent.qa.scenes import Scene

    agent, writer = writer_agent(index, models, profile, ["[S4]"])
    scenes = agent.planner.scenes(VIDEO)
    labelled = Scene(*[getattr(scenes[3], k) for k in ("sid", "start_s", "end_s", "said", "on_screen")], "dark 56%")
    monkeypatch.setitem(agent.planner._scenes, VIDEO, [*scenes[:3], labelled, scenes[4]])
    shown = agent.ask("Where is the rocket shown?")  # the quote carries the label's score: no invented number
    assert shown.found and spans(shown) == [(VIDEO, 12.0, 16.0)] and "dark 56%" in shown.answer


def test_a_refused_look_up_gets_a_second_look_at_the_one_scene_it_is_about(index, models, profile):
    replies = [
        NOT_FOUND,
        "It is on a red saucer. [S3]",
        NOT_FOUND,
        "The cat eats fish. [S2]",
        "No, it is not red. [S3]",
    ]
    agent, writer = writer_agent(index, models, profile, replies)
    cup = agent.ask("What is under the cup?")
    assert cup.found and spans(cup) == [(VIDEO, 8.0, 12.0)] and "saucer" in cup.answer
    assert next(s for s in cup.steps if s["tool"] == "second_look") == {"tool": "second_look", "scene": "S3",
                                                                       "about": ["cup"]}  # fmt: skip
    assert "(This question is about scene S3 (0:08-0:12)" in writer.calls[1][-1][1]
    eating = agent.ask("What is the cat eating?")  # the second look's answer is checked like the first
    assert not eating.found and len(writer.calls) == 4
    choice = agent.ask("Is the saucer red or blue?")  # the code knows which choice the scene holds
    assert choice.answer.startswith('Red: "A cup of hot coffee sits on a red saucer."')
    dog = agent.ask("Is there a dog?")  # no scene names a dog: no second look
    assert not dog.found and len(writer.calls) == 6


def test_a_look_up_refused_twice_is_answered_with_the_one_sentence_that_names_it(index, models, profile):
    agent, writer = writer_agent(index, models, profile, [NOT_FOUND] * 6)
    cup = agent.ask("What is under the cup?")
    assert cup.answer.startswith('It says "A cup of hot coffee sits on a red saucer."')
    assert spans(cup) == [(VIDEO, 8.0, 12.0)] and "quoted_look" in tools(cup)
    garage = agent.ask("What is red in the garage?")
    assert garage.found and "motorcycle" in garage.answer and spans(garage) == [(VIDEO, 16.0, 20.0)]
    # the sentence must state the action asked about; a name is not a sentence's to give
    carrying = agent.ask("What is the rocket carrying?")
    assert not carrying.found and "quoted_look" not in tools(carrying)
    brand = agent.ask("Which brand is the motorcycle?")
    assert not brand.found and "quoted_look" not in tools(brand) and len(writer.calls) == 8


def test_a_look_up_refused_twice_about_a_few_scenes_quotes_each_and_a_yes_no_takes_the_opposite(index, models, profile):
    agent, writer = writer_agent(index, models, profile, [NOT_FOUND] * 6)
    red = agent.ask("Which thing in the video is red?")  # the saucer and the motorcycle
    assert red.answer.startswith('It says "A cup of hot coffee sits on a red saucer."; "A red motorcycle is parked')
    assert spans(red) == [(VIDEO, 8.0, 12.0), (VIDEO, 16.0, 20.0)]
    assert "(This question is about scenes S3 (0:08-0:12), S5 (0:16-0:20)." in writer.calls[1][-1][1]
    cold = agent.ask("Is the coffee cold?")  # the scene says hot
    assert cold.answer.startswith("No: A cup of hot coffee sits on a red saucer.") and spans(cold) == [
        (VIDEO, 8.0, 12.0)
    ]
    eating = agent.ask("Is the cat eating?")  # the scene names the cat, but not what it is asked to do
    assert not eating.found


def test_an_either_or_question_the_model_refused_is_told_from_the_scene_that_holds_one_choice(index, models, profile):
    agent, writer = writer_agent(index, models, profile, [NOT_FOUND] * 3)
    saucer = agent.ask("Is the saucer red or blue?")
    assert saucer.answer.startswith('Red: "A cup of hot coffee sits on a red saucer."')
    assert spans(saucer) == [(VIDEO, 8.0, 12.0)]
    cat = agent.ask("Is the cat black or red in this clip?")  # red is the saucer's and the motorcycle's, not the cat's
    assert not cat.found and len(writer.calls) == 2


def test_a_refused_question_about_text_on_screen_looks_at_the_scene_with_text(index, models, profile):
    agent, writer = writer_agent(index, models, profile, [NOT_FOUND, "It reads CAT CAFE OPEN. [S2]"])
    text = agent.ask("Is any text shown over the cat?")
    assert text.found and spans(text) == [(VIDEO, 4.0, 8.0)] and "CAT CAFE OPEN" in text.answer


def test_when_a_scene_just_named_starts_or_ends_is_told_by_the_code(index, models, profile):
    agent, writer = writer_agent(index, models, profile, ["On a soft blanket. [S2]"])
    agent.ask("What is the cat resting on?")
    start = agent.ask("When does that start?")  # "start" is the scene's, not an action to find in it
    assert start.found and spans(start) == [(VIDEO, 4.0, 8.0)]
    assert start.answer == "That scene starts at 0:04 (0:04-0:08)."
    end = agent.ask("And when does it end?")  # the model had answered with the video's first scene
    assert end.answer == "That scene ends at 0:08 (0:04-0:08)." and len(writer.calls) == 1
    last = agent.ask("When does the last scene begin?")
    assert last.answer == "That scene starts at 0:16 (0:16-0:20)." and spans(last) == [(VIDEO, 16.0, 20.0)]
    video = agent.ask("When does the video end?")
    assert video.answer.startswith("The video ends at 0:20") and len(writer.calls) == 1


def test_when_a_scene_starts_or_ends_is_read_apart_from_a_thing_and_the_video_s_end():
    from videoagent.qa import forms

    assert forms.read("When does that shot begin?") == forms.Form("duration", within="that", edge="start")
    assert forms.read("At what time does it finish?") == forms.Form("duration", within="that", edge="end")
    assert forms.read("When does the first scene end?") == forms.Form("duration", within="ordinal", index=0, edge="end")
    assert forms.read("When does the clip start?") == forms.Form("duration", edge="start")
    assert forms.read("When does the countdown end?").kind == "lookup"  # a thing: the model reads, the check holds
    assert forms.read("When does the rocket lift off?").kind == "lookup"
    assert forms.read("What is said at the end?") == forms.Form("ordinal", index=-1)  # the end of the video


def test_a_past_turn_goes_back_to_the_model_as_it_was_asked_so_the_prompt_cache_covers_it(index, models, profile):
    agent, writer = writer_agent(index, models, profile, ["A cup of coffee. [S3]", "It is red. [S3]"])
    agent.ask("What comes right after the cat?")
    agent.ask("What color is the saucer there?")
    first, second = writer.calls
    assert second[: len(first)] == first  # the second prompt starts as the whole first one, hint and all
    assert "(This question is about scene S3 (0:08-0:12)" in second[1][1]


def test_then_hops_only_where_it_asks_what_follows(index, models, profile):
    from videoagent.qa import forms

    hops = ("And then?", "What happens then?", "What does he do then?")
    assert [forms.read(q).kind for q in hops] == ["relative"] * 3
    assert forms.read("What text is on screen then?").kind == "lookup"  # "then": at that moment
    agent, writer = writer_agent(index, models, profile, ["On the launch pad. [S4]", "LAUNCH DAY 2026 [S4]"])
    agent.ask("When is the rocket on the launch pad?")
    shown = agent.ask("What text is on screen then?")
    assert spans(shown) == [(VIDEO, 12.0, 16.0)] and "LAUNCH DAY 2026" in shown.answer
    # the previous answer goes back ending in its ids ("[S4]"): no hint repeats them (fewer prompt tokens)
    assert writer.calls[1][-1][1] == "What text is on screen then?" and writer.calls[1][-2][1].endswith("[S4]")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How long is this video?", "duration"),
        ("What's the length of this clip?", "duration"),
        ("How many seconds long is the video?", "duration"),
        ("How long is the cat shown?", "duration"),  # the span of the scenes that show the cat, not the video
        ("Is there any text on screen in this video?", "any_text"),
        ("Does the video show any writing?", "any_text"),
        ("Is something written on the screen?", "any_text"),  # the words in any order
        ("Are there any on-screen captions?", "any_text"),
        ("Is there text over the cat?", "lookup"),  # about one scene's text
        ("Does anyone say anything?", "any_speech"),  # speech, not text
        ("Is that shown before the coffee?", "order"),  # "that": the scene the conversation last cited
        ("Does the video have any speech?", "any_speech"),
        ("Can you hear anyone talking?", "any_speech"),
        ("Are any words spoken?", "any_speech"),  # spoken words, not written ones
        ("Does the cat speak?", "lookup"),  # about one thing in the video
        ("Is there any text on screen in the last scene?", "ordinal"),
        ("Does the cat appear before the rocket?", "order"),
        ("Which comes first, the rocket or the cat?", "order"),
        ("Does he say anything after the countdown?", "relative"),  # what follows the countdown
        ("What comes right after the coffee?", "relative"),
    ],
)
def test_whole_video_and_order_questions_are_read_by_their_wording(question, kind):
    from videoagent.qa import forms

    assert forms.read(question).kind == kind


def test_length_text_on_screen_and_order_come_from_the_index_not_the_model(index, models, profile):
    agent, writer = writer_agent(index, models, profile, [])
    length = agent.ask("How long is this video?")
    assert length.answer == "The video is 0:20 long (20 seconds)." and spans(length) == [(VIDEO, 0.0, 20.0)]
    text = agent.ask("Is there any text on screen in this video?")
    assert text.answer == 'Yes: 0:04-0:08 "CAT CAFE OPEN"; 0:12-0:16 "LAUNCH DAY 2026".'
    assert spans(text) == [(VIDEO, 4.0, 8.0), (VIDEO, 12.0, 16.0)]
    before = agent.ask("Does the cat appear before the rocket?")
    assert before.answer == "Yes: the cat (0:04-0:08) comes before the rocket (0:12-0:16)."
    assert spans(before) == [(VIDEO, 4.0, 8.0), (VIDEO, 12.0, 16.0)]
    assert agent.ask("Is the coffee shown before the cat?").answer.startswith("No: the cat (0:04-0:08) comes before")
    first = agent.ask("Which comes first, the rocket or the cat?")
    assert first.answer == "The cat comes first, at 0:04-0:08; the rocket is at 0:12-0:16."
    right = agent.ask("Is the motorcycle shown right after the coffee?")  # after it, but the rocket is between
    assert (
        right.answer.startswith("No: the coffee (0:08-0:12) comes before the motorcycle")
        and "1 scene between" in right.answer
    )
    absent = agent.ask("Does the dragon appear before the cat?")
    assert absent.answer == NOT_FOUND and not absent.found and absent.citations == []
    assert writer.calls == []
    silent = open_agent(index, profile, OTHER).ask("Is there any text on screen in this video?")
    assert silent.answer.startswith("No: no text was read") and silent.found and spans(silent) == [(OTHER, 0.0, 9.0)]


def test_an_order_question_about_that_compares_the_scene_the_conversation_last_cited(index, models, profile):
    agent, writer = writer_agent(index, models, profile, ["On a soft blanket. [S2]"])
    assert not agent.ask("Is that before the coffee?").found  # nothing said yet: "that" is nothing
    agent.ask("What is the cat resting on?")
    that = agent.ask("Is that before the coffee?")
    assert that.answer == "Yes: that scene (0:04-0:08) comes before the coffee (0:08-0:12)."
    assert spans(that) == [(VIDEO, 4.0, 8.0), (VIDEO, 8.0, 12.0)] and len(writer.calls) == 1


def test_whether_anything_is_said_comes_from_the_transcripts_and_the_sound_track():
    from videoagent.qa import exact
    from videoagent.qa.scenes import Scene

    class View:  # what exact.any_speech reads of the index
        def __init__(self, has_audio, asr):
            self.info, self.asr = {"has_audio": has_audio, "duration_s": 9.0}, asr

        def video_info(self, video_id):
            return self.info

        def has_asr(self, video_id):
            return self.asr

    silent = [Scene("S1", 0.0, 4.0, ""), Scene("S2", 4.0, 9.0, "", seen="dog 90%")]
    talk = [Scene("S1", 0.0, 4.0, ""), Scene("S2", 4.0, 9.0, "Lift off.")]
    said = exact.any_speech(View(True, True), "v", talk, [])
    assert said.answer == 'Yes: 0:04-0:09 "Lift off."' and [(c.start_s, c.end_s) for c in said.citations] == [
        (4.0, 9.0)
    ]
    mute = exact.any_speech(View(False, True), "v", silent, [])
    assert mute.answer.startswith("No: this video has no sound track") and mute.found
    assert (
        exact.any_speech(View(True, True), "v", silent, []).answer == "No: no speech was heard anywhere in this video."
    )
    sound = exact.any_speech(View(True, True), "v", silent, [], sound=True)
    assert sound.answer.startswith("Yes: the video has a sound track, but no speech")
    unread = exact.any_speech(View(True, False), "v", silent, [])  # ASR did not run: not known
    assert not unread.found and "not transcribed" in unread.answer


def test_numbers_counted_down_are_a_countdown_an_order_question_can_find():
    from videoagent.qa import exact, forms
    from videoagent.qa.scenes import Scene, counts_down

    assert counts_down("3, 2, 1.") and counts_down("ten, nine, eight") and not counts_down("1, 2, 3")
    assert not counts_down("He has 3 cats and 2 dogs.")
    launch = [Scene("S1", 0.0, 3.1, "3, 2, 1."), Scene("S2", 3.1, 8.1, "Lift off.")]
    form = forms.read("Is the countdown before the lift off?")
    answer = exact.order("v", form, launch, [], None)
    assert answer.answer.startswith("Yes: the countdown (0:00-0:03.1) comes before the lift off (0:03.1-0:08.1)")


def test_a_yes_no_answer_takes_its_yes_or_no_from_the_scene_sentence_that_states_it():
    from videoagent.qa.answerer import _settled
    from videoagent.qa.scenes import Scene

    said = "He was a plain man. He was not an ill-disposed young man. Unless to be selfish is to be ill-disposed."
    scene = Scene("S1", 0.0, 13.0, said)
    assert (
        _settled("Was he ill-disposed?", "Yes, he was ill-disposed.", [scene])
        == "No: He was not an ill-disposed young man."
    )
    assert (
        _settled("Was he ill-disposed?", "No, he was ill-disposed.", [scene])
        == "No: He was not an ill-disposed young man."
    )
    assert _settled("Was he ill-disposed?", "No, he was not.", [scene]) == "No, he was not."
    assert _settled("Was he a plain man?", "Yes, he was plain.", [scene]).startswith("Yes, ")


def test_contractions_are_written_out_and_a_possessive_is_no_word_of_its_own():
    from videoagent.qa import forms, grounding

    assert forms.plain("What's on the table? Isn't it hot? I can't tell, won't it?") == (
        "What is on the table? Is not it hot? I can not tell, will not it?"
    )
    assert forms.read(forms.plain("What's this video about?")).kind == "summary"
    assert grounding.question_subjects(forms.plain("What's the man's name?")) == {"man"}
    assert grounding.question_subjects("What is in the driver’s seat?") == {"driver", "seat"}


def test_a_yes_no_question_put_in_the_negative_asks_what_the_plain_one_asks():
    from videoagent.qa import forms, grounding

    hot = "A cup of hot coffee sits on a red saucer."
    assert grounding.polarity(forms.plain("Isn't the coffee hot?"), hot) == "Yes"
    assert grounding.polarity(forms.plain("The coffee is hot, isn't it?"), hot) == "Yes"
    assert grounding.expects(forms.plain("The coffee is hot, isn't it?")) == "yes_no"
    assert forms.plain("It's hot, isn't it?") == "It is hot, is it not?"  # what the model is asked: English
    assert grounding.polarity("Is the coffee not hot?", hot) == "No"  # the "not" is what it asks


def test_what_is_said_is_quoted_from_the_transcript_and_a_silent_video_says_nothing_is():
    from videoagent.qa import exact, forms

    for q in ("What is being read?", "What does the narrator say?", "What are they saying?"):
        assert forms.read(q).kind == "said", q
    for q in ("What does he say about the rocket?", "What sound is heard?", "What is said first?"):
        assert forms.read(q).kind != "said", q

    class View:
        def __init__(self, audio):
            self.audio = audio

        def video_info(self, video_id):
            return {"has_audio": self.audio, "duration_s": 8.0}

        def has_asr(self, video_id):
            return True

    scenes = [Scene("S1", 0.0, 4.0, ""), Scene("S2", 4.0, 8.0, "Hi, my name is Jesper.")]
    said = exact.answer(View(True), "v", "What is said?", forms.read("What is said?"), scenes, [])
    assert said.answer == 'Said: 0:04-0:08 "Hi, my name is Jesper."' and said.citations == [Citation("v", 4.0, 8.0)]
    silent = [Scene("S1", 0.0, 8.0, "")]
    nothing = exact.answer(View(False), "v", "What is said?", forms.read("What is said?"), silent, [])
    assert nothing.answer.startswith("Nothing: this video has no sound track")


def test_a_speaker_who_says_their_name_answers_who_they_are():
    from videoagent.qa import grounding

    said = "Hi my name is Jesper and I pronounce it Jesper."
    assert grounding.introduced("What is the man's name?", said) == "Jesper"
    assert grounding.introduced("Who is speaking?", said) == "Jesper"
    assert grounding.introduced("What is the cat's name?", said) is None  # someone else's name
    assert grounding.introduced("What is the name of the street?", said) is None
    assert grounding.introduced("Who is speaking?", "He was not an ill-disposed young man.") is None


def test_a_scene_count_asked_with_what_is_in_each_lists_what_each_scene_holds():
    from videoagent.qa import exact, forms

    scenes = [Scene("S1", 0.0, 3.1, "3, 2, 1."), Scene("S2", 3.1, 8.1, "Lift off.")]
    q = "How many scenes are there, and what is in each?"
    told = exact.answer(None, "v", q, forms.read(q), scenes, [])
    assert told.answer == 'The video has 2 scenes: 0:00-0:03.1 "3, 2, 1."; 0:03.1-0:08.1 "Lift off.".'
    bare = exact.answer(None, "v", "How many scenes are there?", forms.read("How many scenes are there?"), scenes, [])
    assert bare.answer == "The video has 2 scenes: 0:00-0:03.1; 0:03.1-0:08.1."


def test_who_speaks_is_told_only_by_the_speaker_naming_themselves(index, models, profile):
    from videoagent.qa import grounding

    assert grounding.asks_speaker("Who is the speaker?") and grounding.asks_speaker("Who is reading?")
    assert not grounding.asks_speaker("Who poses in front of the flag?")
    agent, writer = writer_agent(index, models, profile, ["The speaker is an astronaut. [S1]"])
    answer = agent.ask("Who is the narrator?")  # the narration is about an astronaut, not by one
    assert not answer.found and writer.calls == []


def test_a_thing_said_to_be_one_colour_is_none_of_the_others():
    from videoagent.qa import grounding

    said = "A red motorcycle is parked in the garage."
    assert grounding.stated("Is the motorcycle blue?", said) == ("No", said)
    assert grounding.stated("Is the motorcycle red?", said) == ("Yes", said)
    assert not grounding.opposed("grey", {"gray", "motorcycle"})  # one colour, two spellings
    assert grounding.stated("Is the cat black?", "A tabby cat rests on a soft blanket.") is None  # no colour said


def test_how_long_the_speech_lasts_is_timed_from_the_scenes_that_have_it():
    from videoagent.qa import exact, forms

    scenes = [Scene("S1", 0.0, 4.0, ""), Scene("S2", 4.0, 9.5, "Hello there."), Scene("S3", 9.5, 12.0, "Bye.")]
    q = "How long is the reading?"
    assert forms.read(q).speech and not forms.read("How long is the video?").speech
    timed = exact.answer(None, "v", q, forms.read(q), scenes, [])
    assert timed.answer == "The speech runs 0:04-0:12 (8 seconds)." and len(timed.citations) == 2
    silent = exact.answer(None, "v", q, forms.read(q), scenes[:1], [])
    assert silent.answer.startswith("Nothing is said") and silent.citations == [Citation("v", 0.0, 4.0)]


def test_in_a_few_words_says_how_long_the_answer_is_not_that_it_asks_for_text():
    from videoagent.qa import grounding

    assert not grounding.asks_for_text("Describe this video in a few words.")
    assert not grounding.asks_for_text("In your own words, what happens?")
    assert grounding.asks_for_text("What words are shown on screen?")


def test_things_of_a_kind_and_the_scenes_that_show_one_are_listed_by_the_code():
    from videoagent.qa import exact, forms
    from videoagent.qa.scenes import Label

    for q, form in [
        ("What animals are there?", forms.Form("shown", thing="animals")),
        ("Which kinds of vehicles can be seen in the video?", forms.Form("shown", thing="vehicles")),
        ("Which scenes show a vehicle?", forms.Form("shown", thing="a vehicle")),
        ("In which shots does the dog appear?", forms.Form("shown", thing="the dog")),
        ("Which scenes have a person in them?", forms.Form("shown", thing="a person")),
        ("How many shots show an animal?", forms.Form("count", counts="scenes", thing="an animal")),
        ("In how many scenes is the rocket shown?", forms.Form("count", counts="scenes", thing="the rocket")),
        ("How many cars are there?", forms.Form("count", counts="things", thing="cars")),
    ]:
        assert forms.read(q) == form, q
    for q in ("What things are shown?", "How many times is the countdown said?", "Which shots have text on screen?"):
        assert forms.read(q).kind != "shown" and not forms.read(q).thing, q
    assert forms.read("How many people are there?") == forms.Form("count", counts="people")

    dog = (Label("animal", 0.95, general=True), Label("dog", 0.9), Label("Samoyed", 0.66))
    scenes = [
        Scene("S1", 0.0, 4.0, "", seen="animal 95%, dog 90%, Samoyed 66%", labels=dog),
        Scene("S2", 4.0, 8.0, "", seen="car x2 65%", labels=(Label("car", 0.65, count=2),)),
        Scene("S3", 8.0, 12.0, "A tabby cat rests on a soft blanket."),
        Scene("S4", 12.0, 16.0, "", seen="face 73%", labels=(Label("face", 0.73),)),
    ]
    q = "What animals are there?"
    got = exact.answer(None, "v", q, forms.read(q), scenes, [])
    assert got.answer == (
        "2 of the 4 scenes show or name animals: 0:00-0:04 (seen: dog 90%, Samoyed 66%); "
        '0:08-0:12 (said: "A tabby cat rests on a soft blanket.").'
    )
    assert [c.start_s for c in got.citations] == [0.0, 8.0]
    q = "How many scenes show a vehicle?"
    got = exact.answer(None, "v", q, forms.read(q), scenes, [])
    assert got.answer == "1 of the 4 scenes shows a vehicle: 0:04-0:08 (seen: car x2 65%)."
    q = "Which scenes show a person?"  # a face is a person's; a Samoyed (in WordNet, first a Siberian) is not
    got = exact.answer(None, "v", q, forms.read(q), scenes, [])
    assert got.answer.startswith("1 of the 4 scenes shows a person: 0:12")
    q = "Which scenes show a horse?"
    assert not exact.answer(None, "v", q, forms.read(q), scenes, []).found


def test_a_long_shot_split_into_segments_is_one_scene_that_shows_a_thing():
    from videoagent.qa import exact
    from videoagent.qa.scenes import Label

    scenes = [
        Scene(f"S{i}", a, a + 20, "", seen="person", labels=(Label("person", score, count=n),), shot=0)
        for i, (a, score, n) in enumerate([(0, 0.7, 8), (20, 0.73, 9), (40, 0.72, 8)], start=1)
    ]
    got = exact.shown("v", "people", scenes, [])
    assert got.answer == "1 of the 1 scene shows people: 0:00-1:00 (seen: person x9 73%)."
    assert [(c.start_s, c.end_s) for c in got.citations] == [(0, 60)]


def test_a_label_is_of_a_kind_by_the_classifiers_tree_first_and_wordnet_second():
    from videoagent.qa import grounding

    assert grounding.of_kind("dog", "Samoyed") and grounding.of_kind("animal", "Samoyed")
    assert not grounding.of_kind("person", "Samoyed")  # WordNet's first sense: a people of Siberia
    assert grounding.of_kind("person", "face") and grounding.of_kind("vehicle", "car")
    assert grounding.of_kind("creature", "grey whale")  # not a kind in the tree: WordNet's
    assert not grounding.of_kind("vehicle", "dog")


def test_where_a_person_stands_asks_the_place_and_a_clothing_label_says_what_is_worn():
    from videoagent.qa import grounding

    said = "An astronaut poses in front of the American flag."
    assert grounding.backs("Where is the astronaut standing?", "In front of the American flag.", said).grounded
    assert not grounding.backs("What is the astronaut eating?", "The flag.", said).grounded  # no such action
    worn = "clothing garment necktie face car"
    assert grounding.backs("Is he wearing a tie?", "Yes, he is wearing a tie.", worn).grounded
    assert not grounding.backs("Is he wearing a hat?", "Yes, he is wearing a hat.", worn).grounded


def test_a_name_is_told_only_when_a_name_is_asked_and_the_scene_timestamps_are_the_scene_list():
    from videoagent.qa import forms, grounding

    said = "Hi my name is Jesper and I pronounce it Jesper."
    assert grounding.introduced("What is his name?", said) == "Jesper"
    assert grounding.introduced("What language is spoken?", said) is None
    for q in ("Give me the timestamps of each scene.", "What are the start times of all the shots?"):
        assert forms.read(q) == forms.Form("count", counts="scenes", each=True), q
    assert forms.read("How many vehicles are mentioned?") == forms.Form("count", counts="things", thing="vehicles")


def test_the_language_of_the_speech_is_the_one_the_asr_model_heard():
    from videoagent.qa import exact, forms

    for q, named in [("What language is spoken?", ""), ("Which language is this in?", ""),
                     ("Is he speaking English?", "English"), ("Is the video in French?", "French")]:  # fmt: skip
        assert forms.read(q) == forms.Form("language", other=named), q
    for q in ("What language is on the sign?", "Is this in Paris?", "Is it in the garage?"):
        assert forms.read(q).kind != "language", q

    class View:
        def __init__(self, heard):
            self.heard = heard

        def about(self, video_id):
            return {"language": self.heard}

    heard = {"code": "en", "name": "English", "p": 0.998, "by": "bundled:whisper-base"}
    scenes = [Scene("S1", 0.0, 4.0, "Hello there."), Scene("S2", 4.0, 8.0, "")]
    told = exact.language(View(heard), "v", "", scenes, [])
    assert told.answer.startswith("The speech is in English") and [c.start_s for c in told.citations] == [0.0]
    assert exact.language(View(heard), "v", "French", scenes, []).answer.startswith("No: the speech is in English")
    assert exact.language(View(heard), "v", "english", scenes, []).answer.startswith("Yes")
    assert not exact.language(View(None), "v", "", scenes, []).found  # an index made before it was kept


def test_the_scenes_that_are_somewhere_are_found_by_their_settings():
    from videoagent.qa import exact, forms

    assert forms.read("Which shot is underwater?") == forms.Form("shown", thing="underwater", state=True)
    assert forms.read("How many scenes are at night?") == forms.Form(
        "count", counts="scenes", thing="at night", state=True
    )
    for q in ("Which scene is first?", "Which shot is the longest?", "Which scene is it?"):
        assert forms.read(q).kind != "shown", q
    from videoagent.qa.scenes import Label

    whale, underwater = (Label("grey whale", 0.48),), (Label("underwater", 0.39),)
    scenes = [
        Scene("S1", 0.0, 4.0, "", seen="dog 90%", labels=(Label("dog", 0.9),)),
        Scene("S2", 4.0, 8.0, "", seen="grey whale 48%; setting: underwater 39%", labels=whale, settings=underwater),
    ]
    got = exact.shown("v", "underwater", scenes, [], state=True)
    assert got.answer == "1 of the 2 scenes is underwater: 0:04-0:08 (setting: underwater 39%)."


def test_between_two_things_are_the_scenes_strictly_between_them(index, models, profile):
    from videoagent.qa import forms

    assert forms.read("What happens between the cat and the rocket?") == forms.Form(
        "relative", direction="between", anchor="cat", other="rocket"
    )
    assert forms.read("What is between the cup and the saucer?").direction != "between"  # where, not when
    agent, writer = writer_agent(index, models, profile, ["A cup of hot coffee sits on a red saucer. [S3]"])
    answer = agent.ask("What happens between the cat and the rocket?")
    assert spans(answer) == [(VIDEO, 8.0, 12.0)] and "coffee" in answer.answer
    agent, writer = writer_agent(index, models, profile, [])
    answer = agent.ask("What comes between the coffee and the rocket?")
    assert answer.found and "no scene between them" in answer.answer and writer.calls == []
    assert spans(answer) == [(VIDEO, 8.0, 12.0), (VIDEO, 12.0, 16.0)]


def test_an_answer_about_a_known_scene_loses_what_the_scene_does_not_hold(index, models, profile):
    agent, _ = writer_agent(index, models, profile, ["A brown cat runs across the park. [S2]"])
    answer = agent.ask("What is in the second scene?")  # the cat rests; no park, no running, no colour
    assert spans(answer) == [(VIDEO, 4.0, 8.0)]
    assert "park" not in answer.answer and "brown" not in answer.answer and "blanket" in answer.answer


def test_a_reply_that_says_there_is_no_evidence_is_a_refusal(index, models, profile):
    agent, _ = writer_agent(index, models, profile, ["No, there is no evidence about that. [S5]"] * 3)
    assert agent.ask("Is there a bike in the garage?").answer.startswith("Yes: A red motorcycle")


def test_a_count_in_one_scene_counts_what_is_seen_there():
    from videoagent.qa import exact, forms
    from videoagent.qa.scenes import Label

    assert forms.read("How many people are in the last scene?") == forms.Form(
        "count", counts="people", within="ordinal", index=-1
    )
    assert forms.read("How many people are there at 0:30?") == forms.Form(
        "count", counts="people", within="time", at_s=30.0
    )
    assert forms.read("How many cars are in it?") == forms.Form("count", counts="things", thing="cars", within="that")
    assert forms.read("How many cars are there?") == forms.Form("count", counts="things", thing="cars")

    class View:
        def list_tracklets(self, video_id, category=None, start_s=None, end_s=None):
            rows = [
                {"category": "person", "start_s": 26.8, "end_s": 30.8},
                {"category": "person", "start_s": 2, "end_s": 4},
            ]
            rows = [r for r in rows if r["category"] == category and r["end_s"] >= start_s and r["start_s"] <= end_s]
            return {"available": True, "count": len(rows), "tracklets": rows}

    street = Scene("S2", 3.8, 5.6, "", seen="car x2 65%", labels=(Label("car", 0.65, count=2),))
    got = exact._count_in(View(), "v", "car", [street], [])
    assert got.answer.startswith("2 cars in one frame of 0:03.8-0:05.6") and got.found
    lawn = Scene("S2", 26.5, 53.0, "", seen="person x8 72%", labels=(Label("person", 0.72, count=8),))
    got = exact._count_in(View(), "v", "person", [lawn], [], at_s=30.0)
    assert got.answer.startswith("1 person tracklet at 0:30") and [(c.start_s, c.end_s) for c in got.citations] == [
        (26.8, 30.8)
    ]
    empty = Scene("S4", 7.6, 11.7, "")
    assert exact._count_in(View(), "v", "person", [empty], []).answer == "No person was detected in 0:07.6-0:11.7."
    assert not exact._count_in(View(), "v", "giraffe", [empty], []).found  # the detector does not look for them


def test_a_cut_summary_piece_must_still_name_a_thing_and_its_verb_takes_the_next_piece():
    from videoagent.qa import forms, grounding

    seen = ["clothing garment necktie face car vehicle setting: street outdoors"]
    invented = "The video shows a man walking down the street, wearing a shirt, a tie, and a car."
    assert grounding.without_unbacked(invented, seen) == "The video shows a tie, and a car."
    assert forms.read("Describe what happens.").kind == "summary"
    assert forms.read("Describe what happens after the cat.").kind != "summary"


def test_a_yes_no_looks_in_a_shot_and_takes_the_person_it_names_as_given():
    from videoagent.qa import forms, grounding

    labels = "animal mammal domestic animal dog Samoyed"
    assert grounding.backs("Is there a dog in the first shot?", "Yes, there is a dog.", labels).grounded
    assert grounding.backs("Is there a dog in the seventh scene?", "Yes, there is a dog.", labels).grounded
    worn = "clothing face garment necktie car vehicle"  # a face: someone is there, not who
    assert grounding.backs("Is the man wearing a tie?", "Yes, the man is wearing a tie.", worn).grounded
    assert not grounding.backs("Is there a man?", "Yes, there is a man.", worn).grounded
    assert not grounding.backs("Is the chef wearing a tie?", "Yes.", "clothing garment necktie").grounded  # no one
    assert forms.plain("Is this clip filmed under water?") == "Is this clip filmed underwater?"
    for q in ("What does this video show, briefly?", "Briefly, what happens here?", "What does the clip show?"):
        assert forms.read(q).kind == "summary", q
    assert forms.read("What does the video show at 0:10?").kind == "time"


def test_a_count_of_scenes_with_what_they_show_lists_each():
    from videoagent.qa import forms

    for q in ("How many scenes are there and what do they show?", "How many shots are there, and what is in them?"):
        assert forms.read(q) == forms.Form("count", counts="scenes", each=True), q
    # what a reading is about is a summary; what the narrator asks is what is said
    assert forms.read("What is the reading about?").kind == "summary"
    assert forms.read("What is the speaker talking about?").kind == "summary"
    assert forms.read("What does the narrator ask?").kind == "said"
    assert forms.read("Can I get a rundown of the clip?").kind == "summary"


def test_what_a_known_shot_holds_is_asked_of_the_shot_and_a_word_used_as_a_noun_must_be_held():
    from videoagent.qa import answerer, forms, grounding

    # "shot" names the scene the question is about, as "scene" does: the scene is quoted when the model refuses
    assert answerer._asks_what_is_there("What is in the last shot?", forms.read("What is in the last shot?"))
    dog = "Is there a dog in the last shot?"
    assert not answerer._asks_what_is_there(dog, forms.read(dog))
    seen = ["animal mammal domestic animal dog Samoyed", "What is in the opening shot?"]  # its labels, the question
    # "level" is mostly a noun (an invented thing, cut); "high", mostly an adjective, names nothing left alone
    invented = "The opening shot shows an animal, likely a Samoyed, with a high level."
    assert grounding.without_unbacked(invented, seen) == "The opening shot shows an animal, likely a Samoyed."
    # a piece cut at what a possessive owns says nothing ("about a man's" of "a man's thoughts")
    reading = ["He was not an ill-disposed young man."]
    assert grounding.without_unbacked("The video is about a man's thoughts.", reading) == ""


def test_how_long_a_thing_lasts_is_the_span_of_the_scenes_that_show_or_name_it():
    from videoagent.qa import exact, forms
    from videoagent.qa.scenes import Label

    assert forms.read("How long is the countdown?") == forms.Form("duration", thing="countdown")
    assert forms.read("For how long are cars visible?") == forms.Form("duration", thing="cars", shown=True)
    assert forms.read("How long is the first scene?") == forms.Form("duration", within="ordinal", index=0)
    assert forms.read("How long is it shown?") == forms.Form("duration", within="that")
    assert forms.read("How long is the video?") == forms.Form("duration")
    countdown, lift = Scene("S1", 0.0, 3.1, "3, 2, 1."), Scene("S2", 3.1, 8.1, "Lift off.")
    told = exact.thing_duration("v", "countdown", [countdown, lift], [])
    assert told.answer == "The countdown is in 0:00-0:03.1: 3.1 seconds (the scene that shows or names it)."
    assert [(c.start_s, c.end_s) for c in told.citations] == [(0.0, 3.1)]
    # a thing's size is not how long it lasts: "how long is the rocket?" is refused unless asked how long shown
    rocket = Scene("S1", 0.0, 4.0, "The rocket stands on the pad.")
    assert not exact.thing_duration("v", "rocket", [rocket], []).found
    assert exact.thing_duration("v", "rocket", [rocket], [], shown=True).found
    # neighbours are one span; a label names what is shown
    cars = [Scene(f"S{i}", a, b, "", labels=(Label("car", 0.6, 2),)) for i, (a, b) in enumerate([(0, 2), (2, 3)])]
    told = exact.thing_duration("v", "cars", cars, [], shown=True)
    assert told.answer.startswith("The cars are in 0:00-0:03: 3 seconds")


def test_a_relative_question_hangs_on_the_scene_that_shows_its_thing_best():
    from videoagent.qa import exact
    from videoagent.qa.scenes import Label

    dog = Scene("S1", 0.0, 3.8, "", seen="dog 90%", labels=(Label("dog", 0.9),))
    bird = Scene("S7", 19.8, 23.8, "", seen="bird 25%, dog 16%", labels=(Label("bird", 0.25), Label("dog", 0.16)))
    assert exact.find_scene("the dog", [dog, bird], None)[0] is dog
    assert exact.find_scene("the dog", [bird, dog], None)[0] is dog


def test_which_scenes_have_text_is_not_answered_with_a_yes():
    from videoagent.qa import exact

    written = Scene("S2", 4.0, 8.0, "", on_screen=("SYSTEM OVERRIDE",))
    which = exact.any_text(None, "v", [written], [], yes_no=False).answer
    assert which == 'Text is shown on screen at 0:04-0:08 "SYSTEM OVERRIDE".'
    assert exact.any_text(None, "v", [written], []).answer.startswith("Yes: ")


def test_the_one_thing_of_a_kind_a_question_asks_to_be_named():
    from videoagent.qa import forms

    assert forms.kind_asked("What bird appears?") == "a bird"  # listed by the code when the model refuses
    assert forms.kind_asked("Which animal can be seen?") == "an animal"
    assert forms.kind_asked("What animals are there?") == ""  # the plural is the shown form's
    assert forms.read("What animals are there?").kind == "shown"
    assert forms.kind_asked("What thing is shown?") == "" and forms.kind_asked("What is shown?") == ""
    assert forms.kind_asked("How many birds are there?") == ""


def test_what_is_said_at_the_very_end_of_a_one_scene_reading_is_its_last_sentence():
    from videoagent.qa import forms
    from videoagent.qa.answerer import AnsweringPlanner

    reading = Scene("S1", 0.0, 13.1, "He was not an ill-disposed young man. He might even have been made amiable.")
    planner = AnsweringPlanner(llm=None, view=None)
    end = "What is said at the very end?"
    told = planner._said_at_edge("v", end, forms.read(end), [reading], [])
    assert told.answer.startswith('At the end, it says "He might even have been made amiable."')
    start = "What is heard at the beginning?"
    assert (
        '"He was not an ill-disposed young man."'
        in planner._said_at_edge("v", start, forms.read(start), [reading], []).answer
    )
    scene = "What is said in the last scene?"  # all the scene says: the model answers
    assert planner._said_at_edge("v", scene, forms.read(scene), [reading], []) is None


def test_whether_people_or_things_move_is_told_by_the_tracker():
    from videoagent.qa import exact, forms

    assert forms.read("Are there people walking?") == forms.Form("moving", thing="person")
    assert forms.read("Do the cars move?") == forms.Form("moving", thing="cars")
    assert forms.read("Is he walking?").kind == "lookup"  # "he": the conversation's, the model reads it
    assert forms.read("Is there a man walking in the first scene?").kind == "ordinal"  # one scene: the model

    class View:
        def list_tracklets(self, video_id, category=None, start_s=None, end_s=None):
            rows = [
                {"category": "person", "start_s": 0.2, "end_s": 15.2, "motion": "moving right", "moved": 0.6},
                {"category": "person", "start_s": 1.8, "end_s": 4.2, "motion": "still", "moved": 0.01},
                {"category": "car", "start_s": 28.8, "end_s": 52.8, "motion": "still", "moved": 0.001},
            ]
            rows = [r for r in rows if r["category"] == category]
            return {"available": True, "count": len(rows), "tracklets": rows}

    walking = exact.moving(View(), "v", "person", [])
    assert walking.answer.startswith("Yes: 1 of the 2 people tracked moves across the frame")
    assert "0:00.2-0:15.2 moving right" in walking.answer and [(c.start_s, c.end_s) for c in walking.citations] == [
        (0.2, 15.2)
    ]
    assert exact.moving(View(), "v", "cars", []).answer.startswith("No: the car tracked stays in place")
    assert not exact.moving(View(), "v", "dog", []).found  # nothing of that kind tracked: not told
