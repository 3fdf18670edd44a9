"""What shape of question this is: about a moment, a scene by its place, the scene before or after
another, which of two things comes first, a count, the video's length, whether it shows any text or has
any speech, or the whole video; else a look-up.

The 1.5B model answers look-ups over a scene list well, but it refuses or gets wrong what needs a hop
over the list: "what is shown right after the cat" (find the cat's scene, then take the next one), "what
is at 0:10", "the last scene", "how many scenes" (DESIGN.md, measured on the issue #12 probes). Those
hops are exact operations on the index, so the code does them and tells the model which scene the
question is about; the model still writes the answer. The form is read from the question's wording;
what "that" or "it" refers to comes from the conversation (the scenes the last answer cited).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

Kind = Literal[
    "lookup",
    "time",
    "ordinal",
    "relative",
    "order",
    "count",
    "duration",
    "any_text",
    "any_speech",
    "said",
    "summary",
    "shown",
    "language",
    "moving",
]

_ORDINALS = {
    "first": 0, "opening": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "sixth": 5, "seventh": 6,
    "eighth": 7, "ninth": 8, "tenth": 9, "last": -1, "final": -1, "closing": -1, "penultimate": -2,
}  # fmt: skip
_PART = r"(?:scene|shot|part|segment|clip|chapter|section)"
_ORDINAL = re.compile(
    rf"\b({'|'.join(_ORDINALS)})\s+(?:{_PART}|thing|image|picture|view)\b"  # "the first scene", "the last thing"
    rf"|\b(?:shown|seen|see|come|comes|appear|appears|happen|happens|visible|said|heard|spoken|written|read)\s+({'|'.join(_ORDINALS)})"
    r"(?:\s+(?:in|of)\s+(?:the|this)\s+(?:video|clip|film|footage|recording))?\s*[?.!]*\s*$",  # "what is shown first?"
    re.I,
)
_MIDDLE = re.compile(
    rf"\b(?:middle|central|centre|center)\s+{_PART}\b"
    r"|\b(?:in|at|around)\s+the\s+middle(?:\s+of\s+(?:the|this)\s+(?:video|clip|film|recording|footage)\b|\s*\??\s*$)",
    re.I,
)
_EDGE = re.compile(
    r"\b(?:at|in|near|towards?|by)\s+the\s+(?:very\s+)?(start|beginning|end|outset|close)"
    r"(?:\s+of\s+(?:the|this)\s+(?:video|clip|film|recording|footage))?\s*\??\s*$",
    re.I,
)
_CLOCK = re.compile(r"\b(?:(\d{1,2}):)?(\d{1,2}):(\d{2}(?:\.\d+)?)\b")
_SECONDS = re.compile(
    r"\b(?:(?:at|around|about|after)\s+(?:the\s+)?(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)\b(?:\s+mark)?"
    r"|(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)\s+(?:in|into)\b)",
    re.I,
)
_RELATIVE = re.compile(
    r"\b(?:right\s+|just\s+|immediately\s+|directly\s+|shortly\s+)?(after|before|following|preceding|follows|precedes)\b"
    r"\s*(.*?)\s*\??\s*$",
    re.I,
)
# What comes between two things: "what happens between the cat and the rocket?" (the scenes strictly between
# the two found). Only after a verb of time: "what is between the cup and the saucer?" asks where.
_BETWEEN = re.compile(
    r"\b(?:happen\w*|come\w*|shown|seen|said|heard|occur\w*|go(?:es)?\s+on|is\s+there|are\s+there)\s+(?:in\s+)?"
    r"between\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s*\??\s*$",
    re.I,
)
_BARE_NEXT = re.compile(r"\b(next|then|afterwards|later|subsequently|earlier|previously)\b", re.I)
_BEFORE_WORDS = {"before", "preceding", "precedes", "earlier", "previously"}
# "then" is "next" in "and then?", "what happens then?", "what comes then?"; after a thing asked about
# ("what text is on screen then?", "what is he holding then?") it is "at that moment", not a hop.
_THEN_NEXT = re.compile(
    r"^\W*(?:and\s+)?then\b|\b(?:happen|come|occur|follow|go(?:es)?\s+on|do(?:es)?)\w*\s+then\b", re.I
)
_PRONOUN = re.compile(
    r"^(?:(?:the\s+)?(?:scene|shot|part|one|moment)\s+)?(?:that|this|it|him|her|them|those|these|then)"
    r"(?:\s+(?:one|scene|shot|part|moment))?$|^$",
    re.I,
)
_ANCHOR_LEAD = re.compile(r"^(?:the\s+)?(?:scene|shot|part|moment)\s+(?:with|of|showing|where)\s+", re.I)
_COUNT = re.compile(r"\bhow\s+many\s+(?:different\s+|separate\s+)?(\w+)", re.I)
_SCENE_WORDS = {"scenes", "shots", "cuts", "parts", "segments", "chapters", "sections", "clips"}
_PEOPLE_WORDS = {"people", "persons", "person", "pedestrians", "men", "women", "faces", "humans", "individuals"}
_VIDEO = r"(?:this|the)(?:\s+(?:whole|entire|full))?\s+(?:video|clip|film|footage|recording|movie)"
# The length of the whole video: "how long is this video?", "what is the duration of the clip?", "how many
# seconds long is the video?" ("how long is the cat shown?" is about a scene: the model reads it).
_DURATION = re.compile(
    r"^\W*(?:and\s+)?(?:"
    rf"how\s+(?:long|many\s+(?:seconds|minutes))\s+(?:long\s+)?(?:is|was|does|did)\s+{_VIDEO}"
    r"(?:\s+(?:last|run|go\s+on|take|play))?(?:\s+for)?"
    rf"|what(?:\s+is|'s)\s+(?:the\s+)?(?:total\s+)?(?:duration|length|running\s+time|runtime|run\s+time)(?:\s+of\s+{_VIDEO})?"
    r"|(?:what(?:\s+is|'s)\s+)?(?:this|the)\s+(?:video|clip)'s\s+(?:duration|length|runtime)"
    r")(?:\s+in\s+total)?\s*\??\s*$",
    re.I,
)
# How long the speech lasts: "how long is the reading?", "how long does the narrator talk?"
_SPOKEN = r"(?:reading|speech|talk|narration|recitation|monologue|speaking|talking|dialogue|voiceover|lecture)"
_SPEECH_DURATION = re.compile(
    rf"^\W*(?:and\s+)?how\s+long\s+(?:is|was|does|did)\s+(?:the|this|that)\s+{_SPOKEN}(?:\s+(?:last|take|go\s+on))?\s*\??\s*$"
    r"|^\W*(?:and\s+)?how\s+long\s+(?:does|did)\s+(?:he|she|they|the\s+(?:speaker|narrator|reader|man|woman))\s+"
    r"(?:speak|talk|read|narrate)(?:\s+for)?\s*\??\s*$",
    re.I,
)
# How long a thing is shown or lasts: "how long is the countdown?", "how long is the cat shown?", "how long
# does the lift off last?": the span of the scenes that show or name it (the 1.5B guessed "5 seconds").
_THING_DURATION = re.compile(
    r"^\W*(?:and\s+)?(?:for\s+)?how\s+long\s+(?:is|was|are|were|does|do|did)\s+(?P<thing>(?:(?:the|this|that)\s+)?.+?)"
    r"(?P<shown>\s+(?:shown|seen|visible|on\s+screen|in\s+(?:the\s+)?(?:video|picture|frame)|last|take|go\s+on|appear|"
    r"stay|remain|run)(?:\s+(?:for|on\s+screen))?)?\s*\??\s*$",
    re.I,
)
# When a scene the question points at starts or ends: "when does it start?", "when does that shot begin?" (the
# scene the conversation last cited), "at what time does the last scene end?", "when does the video end?". The
# code tells its span's edge: asked as a look-up, the model had answered with the video's first scene.
_WHEN_EDGE = re.compile(
    r"^\W*(?:and\s+)?(?:when|at\s+what\s+(?:time|point))\s+(?:does|did|do|will)\s+(?P<what>.+?)\s+"
    r"(?P<edge>start|begin|end|finish|stop)(?:\s+(?:again|exactly|playing))?\s*\??\s*$",
    re.I,
)
# Whether people (cars, the dog) move: "are there people walking?", "is anyone moving?", "do the cars move?".
# The tracker's trajectories answer it, for the whole video; asked of one scene, the model reads it.
_MOVING = re.compile(
    r"^\W*(?:and\s+)?(?:(?:is|are|was|were)\s+(?:there\s+)?|(?:does|do|did)\s+)"
    r"(?:any(?:one|body)?\s+|some(?:one|body)?\s+|the\s+|a\s+|an\s+)?(?P<thing>[a-z]+)\s+"
    r"(?P<verb>walk(?:s|ing)?|mov(?:e|es|ing)|run(?:s|ning)?|driv(?:e|es|ing)|cross(?:es|ing)?|pass(?:es|ing)?|"
    r"go(?:es|ing)?\s+by|stroll(?:s|ing)?|wander(?:s|ing)?)"
    rf"(?:\s+(?:around|about|by|past|along|across\s+the\s+\w+|in\s+the\s+street))?(?:\s+(?:in|of)\s+{_VIDEO})?\s*\??\s*$",
    re.I,
)
_SOMEONE = (_PEOPLE_WORDS - {"faces"}) | {
    "one", "body", "pedestrian", "man", "woman", "human", "someone", "somebody", "anyone", "anybody"
}  # fmt: skip
_PERSONAL = {"he", "she", "it", "they", "this", "that", "these", "those", "him", "her", "them", "there"}
# Whether the video shows any text at all: answered from the OCR of every scene, not from a sample.
_ANY_TEXT = re.compile(
    r"^\W*(?:is|are|was|were)\s+there\s+(?:any\s+)?(?:text|writing|words|captions?|subtitles|titles?|lettering)"
    r"(?:\s+(?:shown|written|displayed|visible))?(?:\s+(?:on|in)\s+(?:the\s+)?(?:screen|picture|frame|image))?"
    rf"(?:\s+(?:in|of|throughout)\s+{_VIDEO})?\s*\??\s*$"
    r"|^\W*(?:does|do|did)\s+(?:any\s+)?(?:text|writing|words|captions?|titles?)\s+(?:appear|show|come\s+up)"
    rf"(?:\s+(?:on|in)\s+(?:the\s+)?screen)?(?:\s+(?:in|during)\s+{_VIDEO})?\s*\??\s*$"
    rf"|^\W*(?:does|did)\s+{_VIDEO}\s+(?:show|have|contain|display)\s+any\s+(?:text|writing|words|captions?|titles?)"
    r"(?:\s+on\s+(?:the\s+)?screen)?\s*\??\s*$"
    r"|^\W*(?:and\s+)?(?:which|what)\s+(?:scenes?|shots?|parts?|moments?)\s+(?:have|has|show|shows|contain|contains|"
    r"display|displays)\s+(?:any\s+)?(?:on-?screen\s+)?(?:text|writing|words|captions?|titles?|lettering)"
    r"(?:\s+(?:on|in)\s+(?:the\s+)?(?:screen|picture|frame|image))?\s*\??\s*$",
    re.I,
)
# The same question in any order of its words ("is anything written on screen?", "is there any on-screen
# text?"): a yes/no question made only of words for text and filler, with at least one word for text.
_TEXT_WORDS = {
    "text", "texts", "writing", "written", "word", "words", "caption", "captions", "subtitle", "subtitles",
    "title", "titles", "lettering", "overlay", "overlays", "onscreen",
}  # fmt: skip
_TEXT_FILLER = {
    "is", "are", "was", "were", "does", "do", "did", "there", "any", "anything", "something", "some", "at", "all",
    "ever", "shown", "displayed", "visible", "appear", "appears", "show", "shows", "have", "has", "contain",
    "contains", "display", "displays", "on", "in", "the", "a", "an", "screen", "of", "this", "that", "video",
    "clip", "film", "footage", "recording", "picture", "frame", "image", "throughout", "during", "and",
}  # fmt: skip
_YES_NO_START = re.compile(r"^\W*(?:and\s+)?(?:is|are|was|were|does|do|did)\b", re.I)


# Whether anything is said at all, the same way: "does the video have any speech?", "does anyone talk?"
_SPEECH_WORDS = {
    "speech", "spoken", "speak", "speaks", "speaking", "talk", "talks", "talking", "narration", "narrator",
    "narrated", "voice", "voices", "voiceover", "dialogue", "said", "say", "says", "saying", "sound", "sounds",
    "audio", "audible", "heard", "hear",
}  # fmt: skip
_SPEECH_FILLER = {"anyone", "anybody", "someone", "somebody", "can", "you", "one", "words", "word", "aloud"}


# What is said, asked of the whole video: "what is being read?", "what does the narrator say?", "what are
# they saying?". A "what" question made only of words for speech and filler, with a word for words spoken
# ("what sound is heard?" asks for sounds, and "what does he say about the rocket?" is a look-up).
_SAID_WORDS = {
    "said", "say", "says", "saying", "spoken", "speak", "speaks", "speaking", "talk", "talks", "talking", "read",
    "reads", "reading", "recite", "recites", "recited", "narration", "narrated", "narrates", "narrate", "transcript",
    "dialogue", "voiceover", "tell", "tells", "telling", "told", "hear", "hears", "heard", "ask", "asks", "asking",
    "announce", "announces", "announced",
}  # fmt: skip
_SAID_FILLER = {
    "what", "exactly", "being", "be", "he", "she", "they", "we", "you", "it", "someone", "somebody", "anyone",
    "man", "woman", "person", "people", "speaker", "narrator", "reader", "voice", "us", "aloud", "out", "loud",
    "words", "word", "the", "whole", "everything", "all", "can",
}  # fmt: skip


def _asks_what_said(q: str) -> bool:
    words = set(re.findall(r"[a-z]+", q.lower()))
    known = _SAID_WORDS | _SAID_FILLER | _TEXT_FILLER
    return bool(re.match(r"^\W*(?:and\s+)?what\b", q, re.I)) and words <= known and bool(_SAID_WORDS & words)


def _asks_any_text(q: str) -> bool:
    words = set(re.findall(r"[a-z]+", q.lower()))
    return bool(_YES_NO_START.match(q)) and words <= _TEXT_WORDS | _TEXT_FILLER and bool(_TEXT_WORDS & words)


def _asks_any_speech(q: str) -> bool:
    words = set(re.findall(r"[a-z]+", q.lower()))
    known = _SPEECH_WORDS | _SPEECH_FILLER | _TEXT_FILLER
    return (
        bool(_YES_NO_START.match(q) or re.match(r"^\W*can\b", q, re.I))
        and words <= known
        and bool(_SPEECH_WORDS & words)
    )


# Which of two things comes first: "does the cat appear before the rocket?", "is the coffee shown after
# the cat?", "which comes first, the rocket or the cat?". Both are found in the scene list; their times
# answer it. A question whose subject is a pronoun ("does he say anything after the countdown?") asks
# about the scene after the other one, and stays a relative question.
_THING_VERB = (
    r"(?:appear|appears|appeared|come|comes|came|show\s+up|shows\s+up|showed\s+up|shown|seen|happen|happens|"
    r"happened|mentioned|said|heard|visible|occur|occurs|get\s+shown|gets\s+shown|featured|on\s+screen)"
)
_ORDER_YES_NO = re.compile(
    r"^\W*(?:and\s+)?(?:does|do|did|is|are|was|were)\s+(?:there\s+)?(?P<a>.+?)"
    rf"(?:\s+{_THING_VERB})?(?:\s+(?:in|on)\s+(?:the\s+)?(?:video|clip|screen))?"
    r"\s+(?:(?P<next>right|just|immediately|directly)\s+|(?:shortly|long|well)\s+)?(?P<dir>before|after|earlier\s+than|later\s+than)"
    r"\s+(?P<b>.+?)\s*\??\s*$",
    re.I,
)
_ORDER_WHICH = re.compile(
    r"^\W*(?:and\s+)?(?:which|what|who)(?:\s+(?:one|thing|scene|of\s+(?:the\s+|these\s+|them\s+)?(?:two|both)))?"
    rf"(?:\s+(?:is|was|gets|does))?\s+{_THING_VERB}\s+(?P<dir>first|earlier|sooner|last|later|second)"
    rf"(?:\s+(?:in|of)\s+{_VIDEO})?\s*[,:;]?\s+(?P<a>.+?)\s+or\s+(?P<b>.+?)\s*\??\s*$",
    re.I,
)
_NOT_A_THING = re.compile(
    r"^(?:he|she|it|they|we|you|i|him|her|them|this|that|these|those|anything|something|anyone|someone|anybody|"
    r"somebody|everything|everyone|nothing|any|some|more|one)\b",
    re.I,
)
_ARTICLE = re.compile(r"^(?:the|a|an|any|some)\s+", re.I)
_SUMMARY = re.compile(
    r"\b(summar\w*|overview|recap|gist|synopsis|outline|chapters|table of contents|tl;?dr|in a nutshell|run-?down|"
    r"round-?up)\b"
    rf"|\bsum\s+(?:up\s+{_VIDEO}|{_VIDEO}\s+up|it\s+up|up)\b"
    r"|\bwhat\s+(?:is|'s)\s+(?:this|the)\s+(?:whole\s+)?(?:video|clip|film|reading|talk|speech|story|narration|"
    r"lecture|presentation|conversation|recording|footage)\s+about\b"
    r"|\bwhat\s+(?:is|are)\s+(?:he|she|they|the\s+(?:speaker|narrator|reader|presenter|voice))\s+(?:talking|speaking|"
    r"reading|telling\s+us)\s+about\s*[?.!]*\s*$"
    r"|\bdescribe\s+(?:this|the)\s+(?:whole\s+|entire\s+)?(?:video|clip|film)\b"
    r"|\bwhat\s+happens\s+in\s+(?:this|the)\s+(?:whole\s+|entire\s+)?(?:video|clip|film)\s*\??\s*$"
    r"|^\W*(?:please\s+)?(?:describe|tell\s+me)\s+what\s+(?:happens|is\s+happening|goes\s+on|is\s+going\s+on)\s*[?.!]*\s*$"
    r"|^\W*(?:(?:so|briefly|quickly|in\s+short),?\s+)?what\s+(?:happens|is\s+happening|is\s+going\s+on)\s+(?:here|in\s+it)"
    r"(?:,?\s+(?:briefly|in\s+short|quickly))?\s*[?.!]*\s*$"
    rf"|^\W*(?:(?:so|briefly|in\s+short),?\s+)?what\s+(?:does|did)\s+{_VIDEO}\s+show(?:\s+us)?(?:,?\s+(?:briefly|in\s+short|"
    r"overall|in\s+all))?\s*[?.!]*\s*$"
    r"|\bwhat\s+is\s+(?:going\s+on|happening)\s+in\s+(?:this|the)\s+(?:whole\s+|entire\s+)?(?:video|clip|film)\s*\??\s*$",
    re.I,
)
# The scenes asked for one by one ("list the scenes", "go through the shots", "a scene-by-scene breakdown"):
# the code lists each with its lines; a model asked for it summarised (and, over labels alone, invented).
_SCENE_LIST = re.compile(
    r"\b(?:list|enumerate|go\s+through|walk\s+me\s+through|break\s+down)\s+(?:(?:the|all|each|every|its)\s+)*"
    r"(?:of\s+the\s+)?(?:scenes|shots|cuts)\b"
    r"|\bscene[\s-]+(?:by[\s-]+scene|list|breakdown)\b|\bwhat\s+are\s+the\s+(?:scenes|shots)\b"
    r"|\b(?:timestamps?|times|start\s+times|time\s+codes?|timecodes?)\s+(?:of|for)\s+(?:each|every|all\s+(?:of\s+)?the|"
    r"the)\s+(?:scenes?|shots?|cuts?)\b"
    r"|\bwhen\s+does\s+each\s+(?:scene|shot)\s+(?:start|begin)\b"
    r"|\bhow\s+long\s+is\s+each\s+(?:scene|shot)\b|\b(?:lengths?|durations?)\s+of\s+(?:each|every|all\s+the)\s+(?:scenes?|shots?)\b",
    re.I,
)
# "how many scenes are there, and what is in each?": the count with what each scene says or shows
_EACH = re.compile(
    r"\b(?:each|every\s+one|list\s+them|describe\s+them|what\s+(?:do\s+|did\s+)?(?:they|those|these)\s+"
    r"(?:are|show|contain|hold|say)|what\s+(?:is|happens|is\s+said|is\s+shown)\s+in\s+them)\b",
    re.I,
)


# Things of a kind, and the scenes that show one: "what animals are there?", "which scenes show a vehicle?",
# "in which shots is the dog seen?", "how many scenes show an animal?", "how many cars are there?". The code
# finds them in every scene's labels and lines (a kind the classifier's labels or WordNet put them under);
# the 1.5B, asked over a silent video, wrote "There are 9 animals" and refused "which scenes show a vehicle?".
_PARTS = r"(?:scenes?|shots?|parts?|segments?|clips?|moments?|sections?)"
_HAS = (
    r"(?:show|shows|have|has|contain|contains|feature|features|include|includes|depict|depicts|mention|mentions|"
    r"with)"
)
_ON_SHOW = (
    r"(?:shown|seen|visible|featured|present|mentioned|there|appear|appears|show\s+up|shows\s+up|be\s+seen|"
    r"in\s+(?:view|frame|shot|the\s+picture))"
)
_VIDEO_TAIL = rf"(?:\s+(?:in|of|throughout)\s+{_VIDEO})?(?:\s+(?:on|in)\s+(?:the\s+)?screen)?"
_SCENES_WITH = re.compile(
    rf"^\W*(?:and\s+)?(?:(?P<count>how\s+many)|which|what)\s+(?:of\s+the\s+)?{_PARTS}\s+(?:(?:is|are)\s+there\s+)?"
    rf"{_HAS}\s+(?P<thing>.+?){_VIDEO_TAIL}\s*\??\s*$"
    rf"|^\W*(?:and\s+)?in\s+(?:(?P<count2>how\s+many)|which|what)\s+(?:of\s+the\s+)?{_PARTS}\s+(?:is|are|was|were|do|does|"
    rf"did|can)\s+(?:there\s+)?(?P<thing2>.+?)(?:\s+{_ON_SHOW})?{_VIDEO_TAIL}\s*\??\s*$",
    re.I,
)
# The scenes that are somewhere or some way: "which shot is underwater?", "which scenes are at night?"
_SCENES_ARE = re.compile(
    rf"^\W*(?:and\s+)?(?:(?P<count>how\s+many)|which|what)\s+(?:of\s+the\s+)?{_PARTS}\s+(?:is|are|was|were)\s+"
    r"(?:(?:set|filmed|shot|taken|recorded)\s+)?(?P<thing>(?:in|at|on|under|by|near)\s+(?:the\s+|a\s+)?[a-z]+|[a-z]+)"
    rf"{_VIDEO_TAIL}\s*\??\s*$",
    re.I,
)
# ... but not "which scene is first?", "which shot is the longest?", "which scene is it?"
_NOT_A_STATE = set(_ORDINALS) | {
    "it", "that", "this", "longest", "shortest", "best", "there", "about", "next", "video", "clip", "film", "footage",
    "recording", "movie", "total", "all",
}  # fmt: skip
_KIND_LIST = re.compile(
    r"^\W*(?:and\s+)?(?:(?P<count>how\s+many)(?:\s+different)?|(?:what|which)(?:\s+(?:kinds?|types?|sorts?)\s+of)?)"
    r"\s+(?P<thing>[a-z]+(?:\s+[a-z]+)?)\s+(?:"
    r"(?:are|were|is|was)\s+(?:there|(?:being\s+)?(?:shown|seen|visible|featured|present|in\s+it))"
    r"|(?:can|could)\s+(?:be\s+(?:seen|spotted)|(?:you|i|we|one)\s+(?:see|spot))"
    r"|(?:appear|appears|show\s+up|shows\s+up|do\s+(?:you|i|we)\s+see|does\s+(?:it|the\s+video|the\s+clip)\s+show)"
    r"|(?:are|were|is|was)\s+(?:in|on)\s+(?:the|this)\s+(?:video|clip|film|footage|screen)"
    r"|(?:are|were|is|was)\s+(?:mentioned|named|talked\s+about|spoken\s+of|referred\s+to)"
    rf")(?:\s+(?:there|again|at\s+all)){{0,2}}{_VIDEO_TAIL}\s*\??\s*$",
    re.I,
)
_IN_THEM = re.compile(r"\s+(?:in|on)\s+(?:it|them|there)\s*$", re.I)  # "which scenes have a person in them?"
# What "what Xs are there?" cannot ask: the video's parts, its text and sound, and things in general
_NOT_A_KIND = _SCENE_WORDS | {
    "things", "objects", "items", "stuff", "times", "words", "sounds", "noises", "colors", "colours", "languages",
    "seconds", "minutes", "frames", "texts", "signs", "captions", "titles", "kinds", "types", "sorts", "details",
}  # fmt: skip


def _shown(q: str) -> Form | None:
    """A question about the things of a kind, or the scenes that show one; None when it is neither."""
    if m := _SCENES_WITH.search(q):
        thing = _thing(_IN_THEM.sub("", m.group("thing") or m.group("thing2")), article=True)
        counted = bool(m.group("count") or m.group("count2"))
        if thing and not _TEXT_WORDS & set(thing.lower().split()):  # text on screen: the any-text form's
            return Form("count", counts="scenes", thing=thing) if counted else Form("shown", thing=thing)
    if (m := _SCENES_ARE.search(q)) and not set(m.group("thing").lower().split()) & _NOT_A_STATE:
        thing = m.group("thing")
        return Form("count" if m.group("count") else "shown", counts="scenes" if m.group("count") else None,
                    thing=thing, state=True)  # fmt: skip
    if (m := _KIND_LIST.search(q)) and m.group("thing").lower().split()[-1] not in _NOT_A_KIND:
        thing = _thing(m.group("thing"), article=True)
        if thing and thing.lower().split()[-1] not in _PEOPLE_WORDS | {"s"} and thing.lower().endswith("s"):
            return Form("count", counts="things", thing=thing) if m.group("count") else Form("shown", thing=thing)
    return None


def kind_asked(q: str) -> str:
    """The one thing of a kind a question asks to be named ("what bird appears?": "a bird"; "which vehicle
    is shown?"), which the model answers in its words and the code lists when it refuses; "" for none."""
    m = _KIND_LIST.search(q.strip())
    if not m or m.group("count") or m.group("thing").lower().split()[-1] in _NOT_A_KIND | _PEOPLE_WORDS:
        return ""
    thing = _thing(m.group("thing"))
    if not thing or thing.lower().endswith("s") or thing.lower().split()[-1] + "s" in _NOT_A_KIND:  # plural: shown's
        return ""
    return ("an " if thing[:1].lower() in "aeiou" else "a ") + thing


# The language of the speech: "what language is spoken?", "which language is this in?", "is he speaking
# English?" (`other`: the language a yes/no names). Whisper detects it at ingest; the scene list does not say.
_LANGUAGE = re.compile(
    r"^\W*(?:and\s+)?(?:in\s+)?(?:what|which)\s+(?:language|tongue)\b"
    r"|\b(?:what|which)\s+(?:language|tongue)\s+(?:is|was|are|were|do|does|did)\b"
    r"|\bwhat\s+is\s+the\s+language\s+(?:of|in)\b|\bthe\s+(?:spoken\s+)?language\s+(?:spoken|used)\s*\??\s*$",
    re.I,
)
_IN_LANGUAGE = re.compile(
    r"^\W*(?i:(?:and\s+)?(?:is|are|was|were|does|do|did)\s+(?:this|it|the\s+\w+|he|she|they|someone|anyone)"
    r"(?:\s+\w+)?\s+(?:speak|speaking|speaks|talking\s+in|spoken\s+in|said\s+in|narrated\s+in|(?P<in>in)))\s+"
    r"(?P<language>[A-Z][a-z]+)\s*\??\s*$"
)
# "Is this in X?" is about a language only when X names one (not "is this in Paris?"): the common ones
_LANGUAGES = set(
    "English French German Spanish Italian Portuguese Russian Chinese Mandarin Cantonese Japanese Korean Arabic "
    "Hindi Dutch Swedish Norwegian Danish Finnish Polish Turkish Greek Hebrew Czech Ukrainian Vietnamese Thai "
    "Indonesian Persian Urdu Bengali Latin".split()
)
_ABOUT_TEXT = re.compile(r"\b(?:sign|banner|screen|written|text|caption|title|poster|label|writing)s?\b", re.I)


_CONTRACTIONS = [
    # a tag question reads "is it not?", not "is not it?" (the model is asked the written-out question)
    (
        re.compile(
            r"\b(is|are|was|were|does|do|did|has|have|had|could|would|should)n['’]t\s+"
            r"(it|he|she|they|there|that|this|you|we)\s*\?",
            re.I,
        ),
        r"\1 \2 not?",
    ),  # fmt: skip
    (re.compile(r"\b(can)['’]t\b", re.I), r"\1 not"),
    (re.compile(r"\b(w)on['’]t\b", re.I), r"\1ill not"),
    (re.compile(r"(?<=[a-z])n['’]t\b", re.I), " not"),
    (re.compile(r"\b(what|where|who|how|when|why|which|there|here|it|that|this|he|she)['’]s\b", re.I), r"\1 is"),
    (re.compile(r"(?<=[a-z])['’]re\b", re.I), " are"),
    (re.compile(r"(?<=[a-z])['’]ve\b", re.I), " have"),
    (re.compile(r"(?<=[a-z])['’]ll\b", re.I), " will"),
    (re.compile(r"\b(i)['’]m\b", re.I), r"\1 am"),
    (re.compile(r"(?<=[a-z])['’]d\b", re.I), " would"),
    (re.compile(r"\bunder\s+water\b", re.I), "underwater"),  # one word, the way the settings spell it
]


def plain(text: str) -> str:
    """The text with its contractions written out ("what's" -> "what is", "isn't" -> "is not"), so that
    one wording of a form, a yes/no opening or a negation reads every way a person types it. A possessive
    stays ("the man's name"); a curly apostrophe reads as a straight one."""
    for pattern, written in _CONTRACTIONS:
        text = pattern.sub(written, text)
    return text.replace("’", "'")


# A title asked for ("give this video a title", "suggest a title for the clip"): a summary in a few words.
# "What does the title say?" asks for text on screen, and stays a look-up.
_TITLE = re.compile(
    r"\b(?:give|suggest|write|propose|make\s+up|come\s+up\s+with|think\s+of)\b.*\btitle\b"
    r"|\b(?:a|good|short)\s+title\s+(?:for|to)\s+(?:this|the)\s+(?:video|clip|film|footage|recording)\b"
    r"|\bwhat\s+(?:would|could)\s+(?:you|I|we)\s+(?:call|title|name)\s+(?:this|the|it)\b",
    re.I,
)


@dataclass(frozen=True)
class Form:
    kind: Kind
    title: bool = False  # summary: a title is asked for
    speech: bool = False  # duration: how long the speech lasts, not the video
    shown: bool = False  # duration of a thing: asked how long it is shown or lasts ("on screen", "last")
    at_s: float | None = None  # time: the moment asked about
    index: int | None = None  # ordinal: 0-based place, negative from the end
    middle: bool = False  # ordinal: the middle scene (the middle two of an even number)
    direction: Literal["after", "before", "between"] | None = None  # relative
    anchor: str = ""  # relative, order: what the scene is after/before ("" = what the conversation last cited)
    counts: Literal["scenes", "people", "things"] | None = None  # count
    thing: str = ""  # shown, count: the kind asked about ("animals"); a count of scenes counts those showing it;
    # duration: what is shown or said for how long ("the countdown")
    state: bool = False  # shown, count: the scenes are `thing` ("which shot is underwater?"), not show it
    within: Literal["", "time", "ordinal", "that"] = ""  # count: in one scene (by `at_s`, `index`/`middle`, or
    # the scene the conversation last cited), not the whole video
    each: bool = False  # count of scenes: each listed with what it says, shows or has written
    other: str = ""  # order, between: the second thing ("the rocket" of "does the cat appear before the rocket?");
    # language: the language a yes/no names ("is he speaking English?")
    first: bool | None = None  # order: a which-question asks which comes first (True) or last (False)
    adjacent: bool = False  # order: "right before", "just after": the two scenes must be neighbours
    edge: Literal["", "start", "end"] = ""  # duration: when the scene (or the video) starts or ends, not how long


def read(question: str) -> Form:
    """The question's form; `lookup` when it has none of the others."""
    q = question.strip()
    if _TITLE.search(q):
        return Form("summary", title=True)
    if _SCENE_LIST.search(q):
        return Form("count", counts="scenes", each=True)
    if _SUMMARY.search(q):
        return Form("summary")
    if _SPEECH_DURATION.search(q):
        return Form("duration", speech=True)
    if _DURATION.search(q):
        return Form("duration")
    if m := _THING_DURATION.search(q):
        thing = _thing(m.group("thing"))
        if thing and not _names_a_part(thing):
            return Form("duration", thing=thing, shown=bool(m["shown"]))
        if thing and (place := _within(q)) and place["within"] != "that":  # "how long is the first scene?"
            return Form("duration", **place)
        if re.fullmatch(r"(?:it|that|this|they)", m.group("thing").strip(), re.I):  # "how long is it shown?"
            return Form("duration", within="that")
    if edge := _edge(q):
        return edge
    if (m := _MOVING.search(q)) and not _place(q) and m.group("thing").lower() not in _PERSONAL:  # "is he walking?"
        thing = m.group("thing").lower()
        return Form("moving", thing="person" if thing in _SOMEONE else thing)
    if _asks_any_speech(q):  # before the text: "are any words spoken?"
        return Form("any_speech")
    if _ANY_TEXT.search(q) or _asks_any_text(q):
        return Form("any_text")
    if _LANGUAGE.search(q) and not _ABOUT_TEXT.search(q):
        return Form("language")
    if (m := _IN_LANGUAGE.search(q)) and (not m.group("in") or m.group("language") in _LANGUAGES):
        return Form("language", other=m.group("language"))
    if order := _order(q):
        return order
    if shown := _shown(q):
        return replace(shown, **_within(q)) if shown.counts == "things" else shown
    if m := _COUNT.search(q):
        word = m.group(1).lower()
        if word in _SCENE_WORDS:
            return Form("count", counts="scenes", each=bool(_EACH.search(q)))
        if word in _PEOPLE_WORDS:
            return replace(Form("count", counts="people"), **_within(q))
        if (place := _within(q)) and word.endswith("s") and word not in _NOT_A_KIND:  # "how many cars are in it?"
            return replace(Form("count", counts="things", thing=word), **place)
    if place := _place(q):
        return Form(**place)
    if m := _EDGE.search(q):
        return Form("ordinal", index=0 if m.group(1).lower() in ("start", "beginning", "outset") else -1)
    if (m := _BETWEEN.search(q)) and (a := _thing(m.group("a"))) and (b := _thing(m.group("b"))):
        return Form("relative", direction="between", anchor=a, other=b)
    if m := _RELATIVE.search(q):
        return Form("relative", direction=_direction(m.group(1)), anchor=_anchor(m.group(2)))
    if (m := _BARE_NEXT.search(q)) and (m.group(1).lower() != "then" or _THEN_NEXT.search(q)):
        return Form("relative", direction=_direction(m.group(1)), anchor="")
    if _asks_what_said(q):
        return Form("said")
    return Form("lookup")


_IN_THAT = re.compile(
    r"\b(?:in|on|at)\s+(?:it|that|this|there|then|that\s+(?:scene|shot|one|moment)|this\s+(?:scene|shot|one))\s*\??\s*$"
    r"|\bthere\s*\??\s*$",
    re.I,
)


def _place(q: str) -> dict:
    """The moment ("at 0:10", "20 seconds in") or the scene by its place ("the last scene", "the middle
    scene") a question names, as a time or ordinal form's fields; {} when it names none."""
    if m := _CLOCK.search(q):
        hours, minutes, seconds = int(m.group(1) or 0), int(m.group(2)), float(m.group(3))
        return {"kind": "time", "at_s": hours * 3600 + minutes * 60 + seconds}
    if m := _SECONDS.search(q):
        return {"kind": "time", "at_s": float(m.group(1) or m.group(2))}
    if m := _ORDINAL.search(q):
        return {"kind": "ordinal", "index": _ORDINALS[(m.group(1) or m.group(2)).lower()]}
    if _MIDDLE.search(q):
        return {"kind": "ordinal", "middle": True}
    return {}


def _within(q: str) -> dict:
    """Where a count looks: a scene by its place ("in the last scene"), a moment ("at 0:30"), or the scene the
    conversation last cited ("in it", "there"); {} for the whole video."""
    if place := _place(q):
        return {"within": place.pop("kind"), **place}
    if _IN_THAT.search(q) and not re.search(r"\bare\s+there\s*\??\s*$", q, re.I):
        return {"within": "that"}
    return {}


def _edge(q: str) -> Form | None:
    """When a scene starts or ends, for a scene named by the conversation ("it", "that shot"), by its place
    ("the last scene") or the video itself; None for a thing ("when does the countdown end?": the model
    reads it, the check holds it to the scene that names it)."""
    m = _WHEN_EDGE.search(q)
    if not m:
        return None
    what, edge = m.group("what").strip(), "start" if m.group("edge").lower() in ("start", "begin") else "end"
    if re.fullmatch(_VIDEO, what, re.I):
        return Form("duration", edge=edge)
    if _PRONOUN.match(what):
        return Form("duration", within="that", edge=edge)
    if (place := _place(what)) and (_names_a_part(what) or re.search(r"\bone\b", what, re.I)):
        return Form("duration", within=place.pop("kind"), edge=edge, **place)
    return None


def _order(q: str) -> Form | None:
    """A question about which of two things comes first, or None."""
    if m := _ORDER_WHICH.search(q):
        a, b = _thing(m.group("a")), _thing(m.group("b"))
        if a and b:
            return Form("order", anchor=a, other=b, first=m.group("dir").lower() in ("first", "earlier", "sooner"))
    if m := _ORDER_YES_NO.search(q):
        that = bool(_PRONOUN.match(m.group("a").strip()))  # "is that before the coffee?": the scene last cited
        a, b = "" if that else _thing(m.group("a")), _thing(m.group("b"))
        if b and (a or that):
            later = m.group("dir").lower() in ("after", "later than")
            return Form("order", direction="after" if later else "before", anchor=a, other=b, adjacent=bool(m["next"]))
    return None


def _thing(phrase: str, article: bool = False) -> str:
    """A thing an order question names, without its article (with it, when `article`); "" when it is a
    pronoun or names no thing."""
    phrase = re.sub(r"\b(?:in|of)\s+(?:the|this)\s+(?:video|clip)\b.*$", "", phrase, flags=re.I).strip(" ,.?!:;")
    if not phrase or _NOT_A_THING.match(phrase) or len(phrase.split()) > 6:
        return ""
    return phrase if article else _ARTICLE.sub("", phrase).strip()


def _names_a_part(phrase: str) -> bool:
    """Whether a phrase names a part of the video ("the first scene", "the clip"), not a thing in it."""
    return bool(set(re.findall(r"[a-z]+", phrase.lower())) & _PART_WORDS)


_PART_WORDS = {"scene", "scenes", "shot", "shots", "part", "segment", "clip", "video", "film", "moment", "section"}


def _direction(word: str) -> Literal["after", "before"]:
    return "before" if word.lower() in _BEFORE_WORDS else "after"


def _anchor(rest: str) -> str:
    """The thing a relative question hangs on: "the cat" in "right after the cat"; "" for "that"."""
    rest = re.sub(r"\b(?:in|of)\s+(?:the|this)\s+(?:video|clip)\b.*$", "", rest, flags=re.I).strip(" ,.?!")
    rest = re.sub(r"\s+(?:is|are|was|were)\s+(?:shown|seen|said|heard|mentioned)$", "", rest, flags=re.I)
    if _PRONOUN.match(rest):
        return ""
    return _ANCHOR_LEAD.sub("", rest).strip()
