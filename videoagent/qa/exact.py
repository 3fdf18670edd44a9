"""Answers the index gives exactly, with no model: how many scenes or people, how long the video is,
whether it shows any text, and which of two things comes first.

The 1.5B model miscounts scenes, reads a video's length off the last scene's start, refuses "is there any
text in this video?" when the scene list is long, and gets "does the cat appear before the rocket?" wrong
as often as right (held-out round 13). Each of these is a look-up or a comparison over the index, so the
code does it and says how it knows; what a thing is called still has to be found in a scene's own words
(or, failing that, be a clear match by meaning), so "does the dragon appear before the cat?" is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ..index.view import IndexView
from . import forms, grounding
from .planner import NOT_FOUND, Answer, Citation
from .scenes import Label, Scene, clock, quote

KINDS = (
    "count",
    "duration",
    "any_text",
    "any_speech",
    "said",
    "order",
    "shown",
    "language",
    "moving",
)  # the forms answered here
Similarity = Callable[[str, list[str]], list[float]]
# A thing an order question names, found by meaning alone (no scene has its words): a stricter bar than a
# relative question's anchor (0.35), since the answer is stated by the code and nothing checks it after.
ORDER_MEANING_MIN = 0.45


def answer(
    view: IndexView, video_id: str, question: str, form: forms.Form, scenes: list[Scene], steps: list[dict],
    similarity: Similarity | None = None, that: Scene | None = None, scope: list[Scene] | None = None,
) -> Answer:  # fmt: skip
    """The exact answer to a count, duration, any-text, any-speech or order question. `that`: the scene the
    conversation last cited, what an order question's "that" is ("is that before the coffee?"); `scope`: the
    scenes a count of people or things looks in ("in the last scene"; None: the whole video)."""
    if form.kind == "shown" or form.kind == "count" and form.counts == "scenes" and form.thing:
        return shown(video_id, form.thing, scenes, steps, counted=form.kind == "count", state=form.state)
    if form.kind == "count" and form.counts == "scenes":
        return count_scenes(video_id, scenes, steps, described=form.each)
    if form.kind == "count" and form.counts == "things":
        return count_things(view, video_id, form.thing, scope or scenes, steps, scoped=scope is not None,
                            at_s=form.at_s)  # fmt: skip
    if form.kind == "count" and scope is not None:
        return _count_in(view, video_id, "person", scope, steps, at_s=form.at_s)
    if form.kind == "count":
        return count_people(view, video_id, steps)
    if form.kind == "duration" and form.speech:
        return speech_duration(video_id, scenes, steps)
    if form.kind == "duration" and form.thing:
        return thing_duration(video_id, form.thing, scenes, steps, shown=form.shown)
    if form.kind == "duration" and form.edge:  # "when does it end?"
        return edge(view, video_id, form.edge, scope, scenes, steps)
    if form.kind == "duration" and scope:  # "how long is the first scene?"
        return _spans_told(video_id, "That scene runs" if len(scope) == 1 else "Those scenes run", scope, steps)
    if form.kind == "duration":
        return duration(view, video_id, scenes, steps)
    if form.kind == "any_text":
        return any_text(view, video_id, scenes, steps, yes_no=grounding.expects(question) == "yes_no")
    if form.kind == "moving":
        return moving(view, video_id, form.thing, steps)
    if form.kind == "language":
        return language(view, video_id, form.other, scenes, steps)
    if form.kind in ("any_speech", "said"):
        return any_speech(view, video_id, scenes, steps, sound=bool(_SOUND.search(question)), what=form.kind == "said")
    return order(video_id, form, scenes, steps, similarity, that)


def count_scenes(video_id: str, scenes: Sequence[Scene], steps: list[dict], described: bool = False) -> Answer:
    """Scenes are shots (the spans between cuts); a shot longer than the scenes stage's `max_scene_s` is
    indexed as several segments, which are not scenes of their own. Indexes made before the shots were
    kept (or cut into fixed windows) count their segments. `described`: each scene is listed with its first
    segment's lines (what is said, written, seen)."""
    spans = [(s.start_s, s.end_s) for s in scenes]
    first = list(scenes)
    if all(s.shot is not None for s in scenes):
        merged: dict[int, tuple[float, float]] = {}
        for s in scenes:
            merged[s.shot] = (merged[s.shot][0], s.end_s) if s.shot in merged else (s.start_s, s.end_s)
        spans = list(merged.values())
        first = [next(s for s in scenes if s.shot == shot) for shot in merged]
    n = len(spans)
    steps.append({"tool": "count_scenes", "count": n, "segments": len(scenes), "described": described})
    told = [f" {quote(s, lead='')}".rstrip(".") if described else "" for s in first]
    listing = "; ".join(f"{clock(a)}-{clock(b)}{t}" for (a, b), t in zip(spans[:12], told, strict=False))
    more = f"; and {n - 12} more" if n > 12 else ""
    split = f" (indexed as {len(scenes)} segments: long shots are split)" if n < len(scenes) else ""
    return Answer(
        f"The video has {n} scene{'s' if n != 1 else ''}: {listing}{more}{split}.",
        [Citation(video_id, a, b) for a, b in spans],
        steps,
        found=n > 0,
    )


def shown(
    video_id: str, thing: str, scenes: Sequence[Scene], steps: list[dict], counted: bool = False, state: bool = False
) -> Answer:
    """The scenes that show or name `thing` ("animals", "a vehicle", "the rocket"), each with what shows it:
    its labels of that kind, the general ones left out beside a specific one ("dog 90%, Samoyed 66%" for
    "animals"), its settings of it, and the lines that name it. A long shot's segments are one scene.
    `counted`: the question asks how many scenes (the answer is the same: how many, and which). `state`: the
    scenes are `thing` ("underwater"), as their settings say."""
    words = grounding.content_words(thing)
    found: dict[object, tuple[list[Scene], dict[str, Label], dict[str, Label], list[str]]] = {}
    for s in scenes:
        labels, settings, lines = _showing(words, s) if words else ([], [], [])
        if not labels and not settings and not lines:
            continue
        shot, seen, set_in, said = found.setdefault(s.shot if s.shot is not None else s.sid, ([], {}, {}, []))
        shot.append(s)
        for got, rows in ((seen, labels), (set_in, settings)):  # a shot's segments: each label once, at its best
            for lab in rows:
                got[lab.name] = max(got.get(lab.name, lab), lab, key=lambda x: (x.count, x.score))
        said += [line for line in lines if line not in said]
    shots = len({s.shot if s.shot is not None else s.sid for s in scenes})
    steps.append({"tool": "find_scenes", "thing": thing, "scenes": len(found), "of": shots, "counted": counted})
    if not found:
        return Answer(NOT_FOUND, [], steps, found=False)

    def told(said: list[str], seen: dict[str, Label], set_in: dict[str, Label]) -> str:
        specific = [lab for lab in seen.values() if not lab.general] or list(seen.values())
        parts = [*said, _listed("seen", specific), _listed("setting", list(set_in.values()))]
        return ", ".join(p for p in parts if p)

    listing = "; ".join(
        f"{clock(part[0].start_s)}-{clock(part[-1].end_s)} ({told(said, seen, set_in)})"
        for part, seen, set_in, said in list(found.values())[:12]
    )
    more = f"; and {len(found) - 12} more" if len(found) > 12 else ""
    any_seen = any(seen or set_in for _, seen, set_in, _ in found.values())
    verbs = ["show"] * any_seen + ["name"] * any(said for *_, said in found.values())
    k = len(found)
    verb = ("is" if k == 1 else "are") if state else " or ".join(v if k != 1 else v + "s" for v in verbs)
    lead = f"{k} of the {shots} scene{'s' if shots != 1 else ''} {verb} {thing}"
    cites = [Citation(video_id, part[0].start_s, part[-1].end_s) for part, *_ in found.values()]
    return Answer(f"{lead}: {listing}{more}.", cites, steps)


def _listed(what: str, labels: list[Label]) -> str:
    """ "seen: dog 90%, car x2 65%" ("" for none)."""
    shown = ", ".join(f"{lab.name}{f' x{lab.count}' if lab.count > 1 else ''} {lab.score:.0%}" for lab in labels)
    return f"{what}: {shown}" if labels else ""


def _showing(words: set[str], scene: Scene) -> tuple[list[Label], list[Label], list[str]]:
    """How a scene shows or names every one of `words` ("animal"; "city", "night"): its labels and settings
    of those kinds, and its lines ('said: "..."') that name them; nothing when some word is neither."""
    told = " ".join([scene.said, *scene.on_screen])
    labels, settings = ([lab for lab in rows if any(grounding.of_kind(w, lab.name) for w in words)]
                        for rows in (scene.labels, scene.settings))  # fmt: skip
    seen = labels + settings
    if not all(any(grounding.of_kind(w, lab.name) for lab in seen) or grounding.names_all({w}, told) for w in words):
        return [], [], []
    lines = [f'said: "{_short(scene.said)}"'] if scene.said and _names_any(words, scene.said) else []
    lines += [f'on screen: "{t}"' for t in scene.on_screen if _names_any(words, t)]
    return labels, settings, lines


def _names_any(words: set[str], text: str) -> bool:
    return any(grounding.names_all({w}, text) for w in words)


def count_things(
    view: IndexView, video_id: str, thing: str, scenes: Sequence[Scene], steps: list[dict], scoped: bool = False,
    at_s: float | None = None,
) -> Answer:  # fmt: skip
    """How many `thing`s ("cars"): the tracker's count when it follows them, else the scenes that show them
    (the classifier names what a picture shows, not how many). `scoped`: `scenes` are the one scene (or
    few) the question asks about, not the video; `at_s`: the moment asked about in them."""
    category = next(iter(grounding.content_words(thing)), "")
    if scoped:
        return _count_in(view, video_id, category, scenes, steps, at_s=at_s)
    found = view.list_tracklets(video_id, category) if category else {"available": False}
    steps.append({"tool": "list_tracklets", "args": {"category": category}, "count": found.get("count")})
    if found.get("count"):
        return _tracked(video_id, category, found["tracklets"], "", steps)
    listed = shown(video_id, thing, scenes, steps)
    if not listed.found:
        return listed
    text = f"No tracker follows {thing} in this video, so they are not counted; {listed.answer}"
    return Answer(text, listed.citations, steps)


def _count_in(
    view: IndexView, video_id: str, category: str, scope: Sequence[Scene], steps: list[dict],
    at_s: float | None = None,
) -> Answer:  # fmt: skip
    """How many of a detector category one scene (or a few) holds: the tracklets seen in its span (at the
    moment `at_s`, when one is asked about), else the most boxes the detector found in one of its frames (the
    label's count, "car x2"); a person is also a face. Refused when neither the tracker nor the labels know
    the category there."""
    first, last = scope[0].start_s, scope[-1].end_s
    start, end = (at_s, at_s) if at_s is not None else (first, last)
    where = f" at {clock(at_s)}" if at_s is not None else f" in {clock(first)}-{clock(last)}"
    whole, span = [Citation(video_id, first, last)], f"{clock(first)}-{clock(last)}"
    found = view.list_tracklets(video_id, category, start, end) if category else {"available": False}
    rows = found.get("tracklets", [])  # those seen at some time in [start, end]
    steps.append({"tool": "list_tracklets", "args": {"category": category, "start_s": start, "end_s": end},
                  "count": len(rows)})  # fmt: skip
    if rows:
        return _tracked(video_id, category, rows, where, steps)
    kinds = {category, "face"} if category == "person" else {category}
    labels = [lab for s in scope for lab in s.labels if any(grounding.of_kind(k, lab.name) for k in kinds)]
    if labels:
        most = max(labels, key=lambda lab: lab.count)
        name = f"{most.name}{'s' if most.count != 1 else ''}"
        return Answer(
            f"{most.count} {name} in one frame of {span} (the detector's or classifier's count; none was tracked "
            "there).",
            whole,
            steps,
        )
    if found.get("available") and category == "person":  # the detector looks for people in every frame
        return Answer(f"No person was detected in {span}.", whole, steps)
    return Answer(NOT_FOUND, [], steps, found=False)


def _tracked(video_id: str, category: str, rows: list[dict], where: str, steps: list[dict]) -> Answer:
    """A count of tracklets of one category, `where` they were seen (" in 0:03-0:05", " at 0:30"; "": the
    video), citing each."""
    n, there = len(rows), " there" if where else ""
    return Answer(
        f"{n} {category} tracklet{'s' if n != 1 else ''}{where} (each {category} the tracker followed{there}; one "
        "that leaves and comes back can count twice).",
        [Citation(video_id, r["start_s"], r["end_s"]) for r in rows[:20]],
        steps,
    )


def count_people(view: IndexView, video_id: str, steps: list[dict]) -> Answer:
    found = view.list_tracklets(video_id, "person")
    steps.append({"tool": "list_tracklets", "args": {"category": "person"}, "count": found.get("count")})
    if not found["available"]:
        return Answer("This video has no tracklets, so people were not counted.", [], steps, found=False)
    rows, what = found["tracklets"], "person"
    if not rows:  # a face seen close up (a man at the wheel, a speaker) is a person the body detector misses
        rows, what = view.list_tracklets(video_id, "face").get("tracklets") or [], "face"
        steps.append({"tool": "list_tracklets", "args": {"category": "face"}, "count": len(rows)})
    if not rows:
        return Answer("No person was tracked in this video.", [], steps, found=True)
    n, plural = len(rows), "s" if len(rows) != 1 else ""
    text = (
        f"{n} person tracklet{plural} (people tracked; one person who leaves and comes back can count twice)."
        if what == "person"
        else f"{n} face tracklet{plural}: no whole person was tracked, only faces seen close up."
    )
    return Answer(text, [Citation(video_id, r["start_s"], r["end_s"]) for r in rows[:20]], steps)


def duration(view: IndexView, video_id: str, scenes: Sequence[Scene], steps: list[dict]) -> Answer:
    """The video's length as probed at ingest (the end of its last scene when the probe gave none)."""
    return _told_length(view, video_id, scenes, steps, "The video is {at} long ({seconds}).")


def _told_length(view: IndexView, video_id: str, scenes: Sequence[Scene], steps: list[dict], told: str) -> Answer:
    """`told` with the video's length filled in (`{at}`: its clock, `{seconds}`); "not known" without one."""
    length = view.video_info(video_id).get("duration_s") or (scenes[-1].end_s if scenes else None)
    steps.append({"tool": "video_info", "duration_s": length})
    if not length:
        return Answer("The length of this video is not known.", [], steps, found=False)
    seconds = f"{round(length, 1):g} second{'s' if round(length, 1) != 1 else ''}"
    return Answer(told.format(at=clock(length), seconds=seconds), [Citation(video_id, 0.0, length)], steps)


def edge(
    view: IndexView, video_id: str, which: str, scope: Sequence[Scene] | None, scenes: Sequence[Scene],
    steps: list[dict],
) -> Answer:  # fmt: skip
    """When the scene a question points at starts or ends (`which`), with its span; a long shot's segments are
    one scene. Without `scope`, the video's start or end."""
    if not scope:
        told = (
            "The video ends at {at} ({seconds})."
            if which == "end"
            else f"The video starts at {clock(0.0)}; the video is {{at}} long ({{seconds}})."
        )
        return _told_length(view, video_id, scenes, steps, told)
    shots = {s.shot for s in scope if s.shot is not None}
    sids = {s.sid for s in scope}
    part = [s for s in scenes if s.sid in sids or s.shot is not None and s.shot in shots]
    start, end = part[0].start_s, part[-1].end_s
    steps.append({"tool": "scene_edge", "which": which, "scenes": [s.sid for s in part]})
    verb, at = ("starts", start) if which == "start" else ("ends", end)
    scene = "That scene" if len(part) == 1 or shots and len(shots) == 1 else "Those scenes"
    verb = verb if scene == "That scene" else verb[:-1]
    told = f"{scene} {verb} at {clock(at)} ({clock(start)}-{clock(end)})."
    return Answer(told, [Citation(video_id, start, end)], steps)


_MOVES = 0.1  # a tracklet whose centre ends at least this far (a fraction of the frame) from where it began moves


def moving(view: IndexView, video_id: str, thing: str, steps: list[dict]) -> Answer:
    """Whether the `thing`s ("person", "cars") move, from the tracker's trajectories: a tracklet whose centre
    travels at least a tenth of the frame moves. The tracker sees motion, not gait: walking and running are
    both "moving". Refused when nothing of that kind is tracked (the model may still read the scenes)."""
    category = next(iter(grounding.content_words(thing)), "")
    rows = (view.list_tracklets(video_id, category) if category else {}).get("tracklets") or []
    steps.append({"tool": "list_tracklets", "args": {"category": category}, "count": len(rows)})
    if not rows:
        return Answer(NOT_FOUND, [], steps, found=False)
    movers = [r for r in rows if r["moved"] >= _MOVES]
    if not movers:
        them = (
            f"the {category} tracked stays" if len(rows) == 1 else f"the {len(rows)} {_plural(category)} tracked stay"
        )
        text = f"No: {them} in place (the tracker sees motion, not gait)."
        return Answer(text, [Citation(video_id, r["start_s"], r["end_s"]) for r in rows[:6]], steps)
    shown = "; ".join(f"{clock(r['start_s'])}-{clock(r['end_s'])} {r['motion']}" for r in movers[:6])
    more = f"; and {len(movers) - 6} more" if len(movers) > 6 else ""
    if len(rows) == 1:
        who = f"the {category} tracked moves"
    else:
        who = f"{len(movers)} of the {len(rows)} {_plural(category)} tracked {'move' if len(movers) > 1 else 'moves'}"
    text = f"Yes: {who} across the frame (the tracker sees motion, not gait): {shown}{more}."
    return Answer(text, [Citation(video_id, r["start_s"], r["end_s"]) for r in movers], steps)


def _plural(category: str) -> str:
    return "people" if category == "person" else f"{category}s"


def speech_duration(video_id: str, scenes: Sequence[Scene], steps: list[dict]) -> Answer:
    """How long the speech lasts: from the first scene with speech to the end of the last (scene spans: the
    transcript's own times are coarser than a scene's)."""
    said = [s for s in scenes if s.said]
    steps.append({"tool": "get_transcript", "scenes": [s.sid for s in said]})
    if not said:
        whole = [Citation(video_id, scenes[0].start_s, scenes[-1].end_s)] if scenes else []
        return Answer("Nothing is said in this video, so there is no speech to time.", whole, steps, found=bool(scenes))
    start, end = said[0].start_s, said[-1].end_s
    seconds = round(end - start, 1)
    return Answer(
        f"The speech runs {clock(start)}-{clock(end)} ({seconds:g} second{'s' if seconds != 1 else ''}).",
        [s.cite(video_id) for s in said],
        steps,
    )


def thing_duration(
    video_id: str, thing: str, scenes: Sequence[Scene], steps: list[dict], shown: bool = False
) -> Answer:
    """How long a thing is shown or said ("the countdown"): the span of the scenes that show or name it,
    neighbours joined (a scene is as fine as the index knows a time: the thing may be there for less).
    Unless `shown` ("how long is the cat shown?"), only of an event: "how long is the rocket?" asks its size."""
    if not shown and not grounding.names_an_event(thing):
        steps.append({"tool": "refuse", "why": f"how long {thing} is, in size: nothing in the video measures it"})
        return Answer(NOT_FOUND, [], steps, found=False)
    words = grounding.content_words(thing)
    hits = [s for s in scenes if words and (any(_showing(words, s)) or grounding.names_all(words, s.text()))]
    steps.append({"tool": "find_scenes", "thing": thing, "scenes": [s.sid for s in hits]})
    if not hits:
        return Answer(NOT_FOUND, [], steps, found=False)
    last = thing.split()[-1].lower()
    are = last.endswith("s") and grounding.content_words(last) != {last}  # "cars": a plural
    it = "them" if are else "it"
    which = f" (the scene that shows or names {it})" if len(hits) == 1 else f" (the scenes that show or name {it})"
    return _spans_told(video_id, f"{_capital(_the(thing))} {'are' if are else 'is'} in", hits, steps, which)


def _spans_told(video_id: str, what: str, scenes: Sequence[Scene], steps: list[dict], which: str = "") -> Answer:
    """ "The countdown is in 0:00-0:03.1: 3.1 seconds" (`what`: "The countdown is in"): the spans of `scenes`,
    neighbours joined, and their length."""
    runs: list[list[Scene]] = []
    for s in scenes:
        if runs and abs(runs[-1][-1].end_s - s.start_s) < 0.05:
            runs[-1].append(s)
        else:
            runs.append([s])
    spans = [(run[0].start_s, run[-1].end_s) for run in runs]
    total = round(sum(b - a for a, b in spans), 1)
    where = " and ".join(f"{clock(a)}-{clock(b)}" for a, b in spans[:6]) + (" and more" if len(spans) > 6 else "")
    text = f"{what} {where}: {total:g} second{'s' if total != 1 else ''}{which}."
    return Answer(text, [Citation(video_id, a, b) for a, b in spans], steps)


def any_text(view: IndexView, video_id: str, scenes: Sequence[Scene], steps: list[dict], yes_no: bool = True) -> Answer:
    """Whether any scene shows text ("is any text shown?") or which do ("which scene has text on screen?"),
    from the OCR of every scene; "not read" when OCR did not run."""
    written = [s for s in scenes if s.on_screen]
    steps.append({"tool": "get_ocr", "scenes": [s.sid for s in written]})
    if written:
        listing = "; ".join(f"{clock(s.start_s)}-{clock(s.end_s)} " + ", ".join(f'"{t}"' for t in s.on_screen)
                            for s in written[:8])  # fmt: skip
        more = f"; and {len(written) - 8} more scenes" if len(written) > 8 else ""
        lead = "Yes: " if yes_no else "Text is shown on screen at "
        return Answer(f"{lead}{listing}{more}.", [s.cite(video_id) for s in written], steps)
    if not view.has_ocr(video_id):
        return Answer("On-screen text was not read for this video (its OCR stage did not run).", [], steps, found=False)
    end = scenes[-1].end_s if scenes else view.video_info(video_id).get("duration_s") or 0.0
    lead = "No: no" if yes_no else "None: no"
    return Answer(f"{lead} text was read on screen anywhere in this video.", [Citation(video_id, 0.0, end)], steps)


def any_speech(
    view: IndexView, video_id: str, scenes: Sequence[Scene], steps: list[dict], sound: bool = False,
    what: bool = False,
) -> Answer:  # fmt: skip
    """Whether anything is said, from the transcript of every scene; a video without a sound track says
    so, and one whose speech was not transcribed is "not known". `sound`: the question asks for any sound
    ("does the video have sound?"), which a sound track without speech still has. `what`: the question asks
    what is said ("what is being read?"): each scene's words are quoted at more length."""
    said = [s for s in scenes if s.said]
    info = view.video_info(video_id)
    steps.append({"tool": "get_transcript", "scenes": [s.sid for s in said], "has_audio": info.get("has_audio")})
    yes, no = ("Said", "Nothing") if what else ("Yes", "No")
    if said:
        words = 40 if what else 12
        listing = "; ".join(f'{clock(s.start_s)}-{clock(s.end_s)} "{_short(s.said, words)}"' for s in said[:6])
        more = f"; and {len(said) - 6} more scenes" if len(said) > 6 else ""
        text = f"{yes}: {listing}{more}"
        return Answer(
            text if text.endswith(('."', '?"', '!"')) else text + ".", [s.cite(video_id) for s in said], steps
        )
    whole = [Citation(video_id, 0.0, scenes[-1].end_s if scenes else info.get("duration_s") or 0.0)]
    if info.get("has_audio") is False:
        return Answer(f"{no}: this video has no sound track, so nothing is said in it.", whole, steps)
    if sound and info.get("has_audio") and not what:
        return Answer("Yes: the video has a sound track, but no speech was heard in it.", whole, steps)
    if not view.has_asr(video_id):
        return Answer("Speech was not transcribed for this video (its ASR stage did not run).", [], steps, found=False)
    return Answer(f"{no}: no speech was heard anywhere in this video.", whole, steps)


def language(view: IndexView, video_id: str, named: str, scenes: Sequence[Scene], steps: list[dict]) -> Answer:
    """The language of the speech, as the ASR model heard it at ingest; `named`: the one a yes/no asks
    about ("is he speaking English?"). No speech: none is spoken; not kept (an index made before it was):
    not known."""
    heard = view.about(video_id).get("language")
    said = [s for s in scenes if s.said]
    steps.append({"tool": "speech_language", "language": heard})
    if not said:
        return any_speech(view, video_id, scenes, steps)  # nothing said: that is the answer
    if not heard:
        return Answer("The language of the speech was not kept for this video.", [], steps, found=False)
    how = f"{heard['name']} (the ASR model, {heard['by']}, heard it as {heard['code']}, p={heard['p']:.2f})"
    if not named:
        text = f"The speech is in {how}."
    elif named.lower() == heard["name"].lower():
        text = f"Yes: the speech is in {how}."
    else:
        text = f"No: the speech is in {how}, not {named}."
    return Answer(text, [s.cite(video_id) for s in said], steps)


_SOUND = re.compile(r"\b(?:sound|sounds|audio|audible)\b", re.I)


def _short(text: str, words: int = 12) -> str:
    cut = text.split()
    return " ".join(cut[:words]) + (" ..." if len(cut) > words else "")


def order(
    video_id: str, form: forms.Form, scenes: list[Scene], steps: list[dict], similarity: Similarity | None,
    that: Scene | None = None,
) -> Answer:  # fmt: skip
    """Which of two things comes first, from the first scene that names each; a "that" (no anchor) is
    the scene `that` the conversation last cited."""
    first = (form.anchor, first_naming(form.anchor, scenes, similarity)) if form.anchor else ("", that)
    found = [first, (form.other, first_naming(form.other, scenes, similarity))]
    steps.append({"tool": "find_scenes", "found": {t or "that": s.sid if s else None for t, s in found}})
    if any(s is None for _, s in found):
        return Answer(NOT_FOUND, [], steps, found=False)
    (a, sa), (b, sb) = ((_the(t) if t else "that scene", s) for t, s in found)
    assert sa is not None and sb is not None
    where = {a: f"{clock(sa.start_s)}-{clock(sa.end_s)}", b: f"{clock(sb.start_s)}-{clock(sb.end_s)}"}
    cites = [s.cite(video_id) for s in sorted({sa, sb}, key=lambda s: s.start_s)]
    if sa is sb:
        lead = "Neither comes first: " if form.first is not None else "No: "
        text = f"{lead}{a} and {b} are in the same scene, {where[a]} ({quote(sa, lead='')[:-1]})."
        return Answer(text, cites, steps)
    earlier, later = (a, b) if sa.start_s < sb.start_s else (b, a)
    if form.first is not None:
        pick, other = (earlier, later) if form.first else (later, earlier)
        which = "first" if form.first else "last"
        text = f"{_capital(pick)} comes {which}, at {where[pick]}; {other} is at {where[other]}."
    else:
        yes = (earlier == a) == (form.direction == "before")
        between = abs(scenes.index(sa) - scenes.index(sb)) - 1
        gap = f", with {between} scene{'s' if between != 1 else ''} between them" if form.adjacent and between else ""
        yes = yes and not gap
        text = f"{'Yes' if yes else 'No'}: {earlier} ({where[earlier]}) comes before {later} ({where[later]}){gap}."
    steps.append({"tool": "compare_order", "earlier": earlier})
    return Answer(text, cites, steps)


def first_naming(phrase: str, scenes: Sequence[Scene], similarity: Similarity | None) -> Scene | None:
    """The first scene whose evidence names everything the phrase does; else the scene nearest it by
    meaning, when that is a clear match (ORDER_MEANING_MIN)."""
    words = grounding.content_words(phrase)
    named = [s for s in scenes if words and grounding.names_all(words, s.text())]
    if named:
        return named[0]
    if similarity is None or not scenes:
        return None
    sims = similarity(phrase, [s.text() or "-" for s in scenes])
    best = max(range(len(scenes)), key=sims.__getitem__)
    return scenes[best] if sims[best] >= ORDER_MEANING_MIN else None


def find_scene(phrase: str, scenes: Sequence[Scene], similarity: Similarity | None) -> tuple[Scene | None, float]:
    """The scene that best matches a phrase ("after the cat"), by shared words first and meaning second,
    with its score; None when no scene is a clear match."""
    words = grounding.content_words(phrase)
    overlap = [_overlap(words, s) for s in scenes]
    sims = similarity(phrase, [s.text() or "-" for s in scenes]) if similarity else [0.0] * len(scenes)
    scores = [2 * o + s for o, s in zip(overlap, sims, strict=True)]
    best = max(range(len(scenes)), key=scores.__getitem__)
    runner_up = max((v for i, v in enumerate(sims) if i != best), default=0.0)
    # By meaning alone, a clear match or a clear lead ("the countdown" is nearest "Three, two, one").
    found = overlap[best] > 0 or sims[best] >= 0.35 or (sims[best] >= 0.25 and sims[best] - runner_up >= 0.08)
    return (scenes[best] if found else None), round(scores[best], 3)


def _overlap(words: set[str], scene: Scene) -> float:
    """How many of `words` a scene holds: one for each its lines say, a label's score for one only its labels
    name ("the dog": dog 90% over a bird scene's dog 16%)."""
    said = grounding.lemmas(" ".join([scene.said, *scene.on_screen]))
    held = grounding.lemmas(scene.text())
    scores: dict[str, float] = {}
    for lab in scene.labels:
        for w in grounding.lemmas(lab.name):
            scores[w] = max(scores.get(w, 0.0), lab.score)
    return sum(1.0 if w in said else scores.get(w, 1.0) if w in held else 0.0 for w in words)


def _the(thing: str) -> str:
    """A thing as the answer names it: "the cat"; a name or a quote as it was asked ("LAUNCH DAY")."""
    return thing if thing[:1].isupper() or thing[:1] in "\"'" else f"the {thing}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
