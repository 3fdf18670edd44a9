"""Whether an answer comes from its evidence: the question's expected answer type and a support check.

A tiny LLM asked "Which city is the photographer in?" next to the line "A photographer stands in a
field" answers "New York": the line scores well (it is about the photographer), and the model fills
the gap from what it knows. Extractive QA's rule catches this: an answer must be found in the
evidence. So an answer counts as grounded only when
- it adds at least one word the evidence holds and the question does not (restating the question
  answers nothing);
- every name or number it gives is in the evidence (or the question);
- when the question asks for a name (which city, what brand, whose name) or a number (what year, how
  much), the evidence holds one. Sentence-initial capitals do not make a name; on-screen text, often
  all capitals, counts in full.
- the evidence holds what the question asks for: an instance of the kind it names ("which animal" -> a
  cat, "the temperature of" -> hot; WordNet, `lexicon`), and the action it asks about ("what is the cat
  eating" needs eating, or a verb of the same sense: "lying" is backed by "rests"; "with his camera"
  backs holding and carrying). This is what refuses unstated details of things the video does show.
Yes/no questions are grounded when the evidence mentions every thing the question asks about (a cat is
an animal), and the answer is "no" when the evidence negates it; "when" questions (answered with the
line's time span) when it mentions any of them; either-or questions ("cold-hearted or warm-hearted?")
when it holds exactly one of the two choices, which is the answer.

Words match by lemma (lemminflect), so "rests" supports "resting". Without WordNet installed, the
checks that need it are skipped (`videoagent models` shows the lexicon missing).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from lemminflect import getAllLemmas

from ..ingest.labels import place_settings
from ..models.encoders.imagenet import kinds_above
from ..tagging.keywords import lemma
from . import forms, lexicon


def stop_words() -> frozenset[str]:
    """scikit-learn's English stop words, read from the package's copy (data/stop_words.txt)."""
    text = resources.files("videoagent").joinpath("data/stop_words.txt").read_text()
    return frozenset(w for w in text.split("\n") if w and not w.startswith("#"))


_NUMBER_WORDS = set(
    "zero one two three four five six seven eight nine ten eleven twelve fifteen twenty forty fifty sixty hundred "
    "thousand million first third".split()
)
# scikit-learn's stop words hold numbers and content words that matter in a video ("fire", "front",
# "empty", "bill", "name"); those stay content. Words that say nothing about a video's content join.
_CONTENT = _NUMBER_WORDS | set(
    "fire empty full thick thin bill system move front back top bottom side cry name call made fill mill".split()
)
_GENERIC = set(
    "video clip scene shown show answer evidence appear happen thing kind type does did doing picture image footage "
    "recording".split()
)
# Plurals lemminflect keeps as their own word: "do people appear?" is asked of a "person x8" label line.
_SUPPLETIVE = {"people": "person"}
_IMPLIES = {"face": "person"}  # the face detector's label: a human face is a person's, seen close up
_STOP = (stop_words() - _CONTENT) | _GENERIC
_WORD = re.compile(r"[A-Za-z0-9]+")
_POSSESSIVE = re.compile(r"(?<=[A-Za-z])'s\b")
_COMPOUND_TAIL = re.compile(r"(?<=[A-Za-z0-9]-)([A-Za-z]+)\b")
_YES_NO = re.compile(r"^\s*(is|are|was|were|does|do|did|can|could|has|have|had|will|would)\b", re.I)
_CHOICE = re.compile(
    r"\b([\w-]+)\s+or\s+(?!not\b|no\b)(?:(?:a|an|the)\s+)?([\w-]+)"
    r"(?:\s+(?:in|of|at|during)\s+(?:the|this)\s+(?:[a-z]+\s+)?(?:video|clip|scene|shot|film|footage|recording))?"
    r"\s*\??\s*$",  # "is there a dog or a cat in the first scene?"
    re.I,
)
_ON_SCREEN = re.compile(
    r"\b(text|written|writing|words|sign|banner|screen|caption|title|label|poster|letters|overlay|subtitles?)\b",
    re.I,
)
_WHEN = re.compile(r"^\s*(when|at what (time|point)|what time(?! of (the )?day)|how (early|late))\b", re.I)
# A name or a number is asked for by these nouns anywhere ("the price of the coffee"), or by a place
# noun right after which/what ("which city", "what camera brand").
_ASKS_NAME = re.compile(
    r"\b(name|named|called|surname|brand|company|maker|manufacturer)\b"
    r"|\b(which|what)\s+(\w+\s+)?(city|town|country|state|street|station|team|language|model)\b",
    re.I,
)
# The noun that names what the answer must be: "what kind of vehicle", "the color of the saucer", "the
# motorcycle's license plate", "which animal is ...".
_ASKED_KIND = (
    re.compile(r"^\s*(?:what|which)\s+(?:kinds?|types?|sorts?)\s+of\s+([a-z]+)", re.I),
    re.compile(r"^\s*(?:what|which)\s+(?:is|are|was|were)\s+the\s+([a-z]+)\s+of\b", re.I),
    re.compile(r"^\s*(?:what|which)\s+(?:is|are|was|were)\s+(?:the\s+)?[a-z]+'s\s+(?:[a-z]+\s+)?([a-z]+)\W*$", re.I),
    re.compile(
        r"^\s*(?:what|which)\s+([a-z]+)\s+(?:is|are|was|were|does|do|did|can|could|has|have|had|will|would|might)\b",
        re.I,
    ),
)
# Verbs that ask about the video itself ("what is shown", "what is said"), not about what happens in it.
_ABOUT_THE_VIDEO = set(
    "be have do happen say tell show see appear look mention describe write print display read hear speak call "
    "name mean go get seem become feature depict present contain include find give occur film shoot record "
    "capture start begin end finish come follow precede continue introduce visible".split()
)
_DOES_NOUN_VERB = re.compile(
    r"\b(?:do|does|did)\s+(?:(?:the|a|an|this|that|his|her|their|its)\s+)?[a-z]+\s+([a-z]+)\b", re.I
)
_DETERMINERS = {"a", "an", "the", "his", "her", "their", "its", "my", "your", "our"}  # not "this": "is this moving?"
_POSSESSION = {"hold", "carry", "have", "bring"}  # "a photographer ... with his camera" holds it
_WITH = re.compile(r"\bwith\b", re.I)
_CONDITION = re.compile(r"\b(if|unless|whether|suppose|supposing)\b", re.I)
_NEGATION = re.compile(r"\b(not|no|never|nobody|nothing|none|neither|nor|without)\b|n't\b", re.I)
_ASKS_NUMBER = re.compile(
    r"\b(price|cost|costs|year|age|speed|height|weight)\b"
    r"|\bhow\s+(much|many|old|far|fast|long|often|high|tall|heavy|deep|wide)\b",  # "how high does it fly?"
    re.I,
)


@dataclass(frozen=True)
class Support:
    grounded: bool
    reason: str


def expects(question: str) -> str:
    """The answer type the question asks for: choice | yes_no | when | name | number | open."""
    if _CHOICE.search(question):
        return "choice"
    if _YES_NO.match(question) or _TAG.search(question):
        return "yes_no"
    if _WHEN.match(question):
        return "when"
    if _ASKS_NUMBER.search(question):
        return "number"
    if _ASKS_NAME.search(question):
        return "name"
    return "open"


def choice(question: str, evidence: str) -> str | None:
    """The one choice of an either-or question that the evidence holds (None: neither, or both)."""
    found = _CHOICE.search(question)
    if found is None:
        return None
    held = lemmas(evidence)
    # Compare the words that tell the choices apart ("warm" vs "cold" in "warm-hearted or cold-hearted").
    left, right = content_words(found.group(1)), content_words(found.group(2))
    options = [(found.group(1), left - right), (found.group(2), right - left)]
    kept = [text for text, words in options if words and words <= held]
    return kept[0] if len(kept) == 1 else None


def check(question: str, answer: str, evidence: str, evidence_is_text_on_screen: bool = False) -> Support:
    """Whether `answer` to `question` is backed by the `evidence` line it was drawn from."""
    asked = lemmas(question)
    held = lemmas(evidence)
    kind = expects(question)
    if kind == "yes_no":
        words = content_words(evidence)
        missing = sorted(w for w in content_words(question) if not _mentioned(w, held, words))
        return Support(not missing, f"not in the evidence: {', '.join(missing)}" if missing else "all mentioned")
    if kind == "choice":
        picked = choice(question, evidence)
        return Support(picked is not None, f"holds: {picked}" if picked else "holds neither choice, or both")
    if not (evidence_is_text_on_screen and asks_for_text(question)):  # then the text itself is the answer
        gap = _unasked(question, held, evidence)
        if gap:
            return Support(False, gap)
    if kind == "when":
        shared = sorted(content_words(question) & held)
        return Support(bool(shared), f"mentions: {', '.join(shared)}" if shared else "mentions nothing asked about")
    invented = sorted(_facts(answer) - held - asked)
    if invented:
        return Support(False, f"not in the evidence: {', '.join(invented)}")
    added = content_words(answer) & held - asked
    if not added:
        return Support(False, "adds nothing from the evidence to the question")
    facts = held if evidence_is_text_on_screen else _facts(evidence)
    if kind == "name" and not any(not _is_number(w) for w in facts - asked):
        return Support(False, "the question asks for a name and the evidence holds none")
    if kind == "number" and not any(_is_number(w) for w in held):
        return Support(False, "the question asks for a number and the evidence holds none")
    return Support(True, "found in the evidence: " + ", ".join(sorted(added)))


def backs(
    question: str,
    answer: str,
    evidence: str,
    evidence_is_text_on_screen: bool = False,
    nearby: str = "",
    about: bool = False,
    related: Callable[[str, list[str]], list[float]] | None = None,
) -> Support:
    """Whether the `evidence` of one scene backs an `answer` a capable model wrote in its own words.

    Looser than `check` where a paraphrase is fine (the answer need not repeat the question's verb:
    "arranged" is answered by "laid out in rows"), stricter where a model fills gaps or mixes scenes:
    the scene mentions what the question is about (not only what it asks: "what is the astronaut
    holding" is not backed by the coffee scene); every name and number the answer gives is in the
    scene (or in `nearby`: the neighbouring scenes, where a sentence cut by a scene change goes on); a
    "which/what name" or "how many" question's answer gives one; a "who" question's scene names a
    person; a "which animal" question's scene holds an animal; and the answer says something the scene
    holds that the question did not. A "when" question is backed by a scene that mentions what it asks
    about, and the action it asks about: its time span is the answer. `about`: the caller knows the
    scene is what the question is about (the nearest by meaning: "the two-wheeler" is the motorcycle;
    or the question says nothing of its own: "when is it shown?"). `related`: the sentence encoder's
    word similarity, for kinds WordNet does not file a word under ("which pet": a cat, at >= 0.65)."""
    placed = placed_words(evidence)  # "parked in the garage": indoors
    asked, held = lemmas(question), _implied(_numbers_as_words(lemmas(evidence))) | placed
    words = _implied(content_words(evidence)) | placed
    kind = expects(question)
    if (who := _told_of(question, held)) is not None:
        return Support(False, f"the speech tells of the {who}; nothing says the {who} is the one speaking")
    if kind == "yes_no":
        # what the question says of the video's parts ("in the first shot") is where it looks, not a thing
        things = content_words(_ON_CAMERA.sub(" ", question)) - _ABOUT_THE_VIDEO - _PLACES - _PARTS_OF_THE_VIDEO
        if evidence_is_text_on_screen and asks_for_text(question):  # "is any text shown?": the scene's text is
            things -= ON_SCREEN_WORDS
        actions = set(asked_actions(question))  # said in its own sense: "rests" is no "sleeping"
        asked_in = places_in(question)  # "is this inside a building?" over "setting: outdoors": a No
        missing = sorted(
            w
            for w in things
            if not (
                _says_action(w, held, words) or _worn(w, words) or _speech_act(w, question)
                if w in actions
                else _mentioned(w, held, words)
            )
            and not (opposed(w, held) or _opposed_place(w, asked_in, held))
            and not _presupposed_person(w, question, words)
        )
        if missing:
            return Support(False, f"not in the evidence: {', '.join(missing)}")
        # what only its opposite backs ("is he warm-hearted?" over "cold-hearted") is a No, never a Yes
        against = sorted(
            w
            for w in things - actions
            if not _mentioned(w, held, words) and not _presupposed_person(w, question, words)
        )
        if against and polarity(question, answer) == "Yes":
            return Support(False, f"the evidence holds the opposite of: {', '.join(against)}")
        return Support(True, "all mentioned")
    if kind == "choice":
        picked = choice(question, evidence)
        return Support(picked is not None, f"holds: {picked}" if picked else "holds neither choice, or both")
    if kind == "when":  # the scene's span is the answer: it must mention what the question asks about
        gap = _unasked(question, held, evidence)
        if gap:
            return Support(False, gap)
        shared = sorted(w for w in content_words(question) if _mentioned(w, held, words))
        if not shared and not about:
            return Support(False, "mentions nothing asked about")
        return Support(True, f"mentions: {', '.join(shared)}" if shared else "the scene the question is about")
    wanted = asked_kind(question)
    on_screen = evidence_is_text_on_screen and asks_for_text(question)
    subjects = question_subjects(question)
    if on_screen:  # "the sign", "the words on screen" are the on-screen text itself
        subjects -= ON_SCREEN_WORDS
    if (
        subjects
        and not about
        and not any(_mentioned(w, held, words) or _presupposed_person(w, question, words) for w in subjects)
    ):  # "how does the man introduce himself?" over a face and "my name is Jesper": the man is someone seen
        return Support(False, f"the scene does not mention {', '.join(sorted(subjects))}")
    if about and (gap := _absent_person(subjects - _compound_tails(question), held, words)):  # "the chef": someone
        return Support(False, gap)
    wanted = wanted if kind not in ("name", "number") else None
    if on_screen:
        return Support(True, "the scene's on-screen text answers it")
    given = _numbers_as_words(_facts(answer)) - {"one"}  # "one would need": a pronoun as often as a number
    invented = sorted(given - held - _numbers_as_words(lemmas(nearby)) - _numbers_as_words(asked))
    if invented:
        return Support(False, f"not in the evidence: {', '.join(invented)}")
    if unsaid := _unsaid_action(question, held, words, evidence):
        return Support(False, f"the evidence does not say it: {unsaid}")
    if not (evidence_is_text_on_screen and asks_for_text(question)):
        who = bool(_WHO.match(question))
        wanted = "person" if who else wanted
        # WordNet only when there is a kind to test; "who" always: the answer itself must name the person
        # ("who owns the cat?" is not answered by "a domestic cat" from a line that also says "Egyptian cat")
        lex = lexicon.load() if wanted and (who or wanted not in held) else None
        if lex and lex.is_noun(wanted):
            test = lex.names_a if who else lex.is_kind
            pool = (_heads(answer, lex) & words) - asked if who else words
            if who and any(not _is_number(w) for w in (_facts(answer) & held) - asked):
                pool = {wanted}  # a name from the evidence ("Jesper") names the person
            near = not who and related is not None and words and max(related(wanted, sorted(words))) >= _RELATED
            if not any(test(wanted, w) for w in pool) and not near:
                where = "the answer" if who else "the evidence"
                return Support(False, f"the question asks which {wanted}, and {where} names none")
    added = _numbers_as_words(content_words(answer)) & held - asked
    if _PLACED.search(question):  # "what is the pet lying on?" is not answered by "the pet is a cat"
        added = {w for w in added if not _names_subject(w, subjects, related)}
    if not added:
        return Support(False, "adds nothing from the evidence to the question")
    named = (_facts(evidence) | (held if evidence_is_text_on_screen else set())) & lemmas(answer)
    if kind == "name" and not (given - asked) and not (named - asked):
        return Support(False, "the question asks for a name and the answer gives none")
    if kind == "number" and not any(_is_number(w) for w in given - asked):
        return Support(False, "the question asks for a number and the answer gives none")
    return Support(True, "found in the evidence: " + ", ".join(sorted(added)))


# Who a question says speaks: "what does the astronaut say?", "is the photographer talking about ...?"
_SPEAKS = re.compile(
    r"\b(?:the|a|an|this|that)\s+([a-z]+)\s+(?:(?:is|was|are|were)\s+)?"
    r"(?:say|says|said|saying|talk(?:s|ed|ing)?|speak(?:s|ing)?|spoke|tell(?:s|ing)?|told|narrat(?:e|es|ed|ing)|"
    r"explain(?:s|ed|ing)?|announc(?:e|es|ed|ing)|shout(?:s|ed|ing)?|whisper(?:s|ed|ing)?)\b",
    re.I,
)
_VOICES = set("speaker narrator voice reader presenter host commentator announcer".split())


_SPEECH_ACTS = set("talk speak narrate discuss explain announce".split())
_ABOUT_A_TOPIC = re.compile(
    r"\babout\s+(?:(?:a|an|the|his|her|their|this|that|some)\s+)?(?!(?:him|her|them|it)(?:self|selves)?\b)\w+", re.I
)


def _speech_act(verb: str, question: str) -> bool:
    """Whether an asked action is the speaking itself, which what is said answers: "is the speaker talking
    about a young man?" (the young man must be in what is said), "what is the narrator talking about?"; not
    "is the man talking about himself?" (no topic the scene could hold) nor a person the speech tells of
    (`_told_of`)."""
    return verb in _SPEECH_ACTS and (_said_by(question) in _VOICES or bool(_ABOUT_A_TOPIC.search(question)))


def _said_by(question: str) -> str | None:
    """Who the question says speaks ("the astronaut" of "what does the astronaut say?"), as a lemma."""
    found = _SPEAKS.search(question)
    return _lemma(found.group(1).lower()) if found else None


def _told_of(question: str, held: set[str]) -> str | None:
    """The person the question says speaks, when the speech only tells of them ("what does the astronaut
    say?" over a narration of "an astronaut poses in front of the flag": a voice tells of the astronaut; that
    the astronaut speaks, nothing says). None when the question names no such person, or the scene does not
    name them (a man seen while "my name is Jesper" is said may be the one speaking)."""
    who = _said_by(question)
    if who is None or who in _VOICES or who not in held:
        return None
    lex = lexicon.load()
    if lex is None or not lex.names_a("person", who):
        return None
    return who


def _names_subject(word: str, subjects: set[str], related: Callable[[str, list[str]], list[float]] | None) -> bool:
    """Whether `word` only names what the question is about ("cat" for "the feline", "the pet"): no answer to
    what that thing is on, in or next to."""
    lex = lexicon.load()
    return any(
        (lex is not None and lex.is_kind(s, word)) or (related is not None and max(related(s, [word])) >= _RELATED)
        for s in subjects
    )


def _unsaid_action(question: str, held: set[str], words: set[str], evidence: str) -> str | None:
    """The action a question asks someone to do that the scene does not say they do ("what is the
    photographer wearing?" over a scene where he stands with his camera; "what is the cat eating?" over one
    where it rests). Only for a person or an animal: what a thing does is often said in other words ("which
    numbers are counted down?" over "3, 2, 1"). Without WordNet, synonyms cannot be told from absence."""
    lex = lexicon.load()
    if lex is None or not any(
        lex.names_a("person", w) or lex.names_a("animal", w) for w in question_subjects(question)
    ):
        return None
    placed = _placed(question)
    for verb in asked_actions(question):
        if verb in placed or _worn(verb, words) or _speech_act(verb, question):
            continue
        if not (verb in _POSSESSION and _WITH.search(evidence)) and not _mentioned(verb, held, words):
            return verb
    return None


def _worn(verb: str, words: set[str]) -> bool:
    """What a person wears is clothing: a "necktie" or "garment" label says it is worn."""
    lex = lexicon.load()
    return verb == "wear" and lex is not None and any(lex.is_kind("clothing", w) for w in words)


def _placed(question: str) -> set[str]:
    """The verbs a question asks where of, not about: the one before a stranded preposition ("what is the
    astronaut standing in front of?" asks what is there, not about the posture: the scene may say he poses),
    and a posture in a "where" question ("where is the astronaut standing?")."""
    verbs = {getAllLemmas(m.group(1).lower()).get("VERB", ("",))[0] for m in _PLACED.finditer(question)}
    if _WHERE.match(question):
        verbs |= _POSTURES
    return verbs


_WHERE = re.compile(r"^\W*(?:and\s+)?where\b", re.I)
# "Is there a person on camera?": in the picture, not a camera the scene must hold
_ON_CAMERA = re.compile(r"\b(?:on|in\s+front\s+of\s+the)\s+camera\b|\bin\s+(?:the\s+)?(?:frame|picture|shot)\b", re.I)
# "where is it kept / stored / located?" asks the place too
_POSTURES = set(
    "stand sit lie rest pose wait stay park hang lean perch kneel crouch keep store locate situate put place "
    "leave".split()
)


_PLACED = re.compile(
    r"\b([a-z]+)\s+(?:in\s+front\s+of|on\s+top\s+of|next\s+to|on|onto|in|inside|under|underneath|beneath|"
    r"behind|beside|near|at|against|by|over|above|below|between|among|across)\s*[?.!]*\s*$",  # stranded: it asks where
    re.I,
)


def question_subjects(question: str) -> set[str]:
    """The things a question is about: its content words less the actions it asks about, the words about
    the video itself, the kind it asks for and an either-or question's choices ("what is the cat eating in
    this clip?" -> cat; "which colour is the saucer?" -> saucer; "is the saucer red or blue?" -> saucer)."""
    words = content_words(question) - set(asked_actions(question)) - _ABOUT_THE_VIDEO - {asked_kind(question)}
    words -= _PLACES  # "does the countdown come first?": the first scene is where it looks
    if found := _CHOICE.search(question):
        words -= content_words(found.group(1)) | content_words(found.group(2))
    return words


# A speaker who says who they are: "Hi, my name is Jesper", "I'm Anna and this is my kitchen".
_INTRODUCES = re.compile(  # read over `forms.plain` text: "I'm" is "I am" there
    r"\b(?:my\s+name\s+is|my\s+name's|I\s+am|I\s+am\s+called|call\s+me)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"
)
_SPEAKER_WORDS = set(
    "man woman person speaker narrator presenter host guy girl boy lady gentleman reader vlogger someone "
    "interviewer interviewee child kid people".split()
)
_SPEAKING = set("speak talk narrate read reading say speaker narrator narration reader presenter host voice".split())


def asks_speaker(question: str) -> bool:
    """Whether the question asks who speaks ("who is the speaker?", "who is reading?", "what is the narrator's
    name?"): only the speaker's own words answer that ("my name is ..."); the people a speech is about
    ("he was not an ill-disposed young man") are not who reads it."""
    return _asks_who(question) and bool(lemmas(question) & _SPEAKING)


def _asks_who(question: str) -> bool:
    """A "who" question, or one asking for a name ("what is the man's name?")."""
    return bool(_WHO.match(question)) or expects(question) == "name" and bool(_NAME_ASKED.search(question))


def introduced(question: str, said: str) -> str | None:
    """The name a speaker gives themselves in `said`, when the question asks who the speaker (the man, the
    narrator, he) is or what their name is ("what is the man's name?" over "Hi, my name is Jesper"); None
    when the question is about someone else or nobody says their name."""
    if not _asks_who(question) or not question_subjects(question) - _NAME_PARTS <= _SPEAKER_WORDS:
        return None
    found = _INTRODUCES.search(forms.plain(said))
    if not found or found.group(1).lower() in stop_words():
        return None
    if _FAMILY_NAME.search(question) and len(found.group(1).split()) < 2:
        return None  # "what is his last name?" over "my name is Jesper": a first name only
    return found.group(1)


def asks_family_name(question: str) -> bool:
    """Whether the question asks for a last name ("what is his surname?"): a name said alone does not give it."""
    return bool(_FAMILY_NAME.search(question))


_FAMILY_NAME = re.compile(r"\b(?:last|family|second)\s+name\b|\bsurname\b", re.I)
_NAME_PARTS = {"last", "family", "first", "full", "surname"}


def names_all(words: set[str], evidence: str) -> bool:
    """Whether the evidence names every one of `words` (itself, something of its kind, or its sense)."""
    held, found = _held(evidence)
    return all(_mentioned(w, held, found) for w in words)


def _heads(text: str, lex: lexicon.Lexicon) -> set[str]:
    """Content words of `text` less those that modify the word after them ("a domestic cat", "an Egyptian
    cat": no servant, no Egyptian, though WordNet's first sense of each is a person)."""
    tokens = _WORD.findall(text)
    modifiers = {
        w.lower()
        for w, after in zip(tokens, tokens[1:], strict=False)
        if after.lower() not in _STOP and lex.is_adjective(w.lower())
    }
    return {_lemma(w.lower()) for w in tokens if w.lower() not in _STOP and w.lower() not in modifiers}


def of_kind(word: str, label: str) -> bool:
    """Whether a scene's label is a `word` (a lemma): itself, what it implies (a face: a person), under it in
    the classifier's tree of kinds when that tree has both ("Samoyed": a dog, an animal; not a person, as
    WordNet's first sense of the word has it), else a kind of it in WordNet (a car: a vehicle; a grey whale:
    a creature)."""
    name = label.lower()
    if _lemma(name) == word or _IMPLIES.get(name) == word:
        return True
    above = kinds_above()
    if label in above and word in _tree_kinds():
        return word in above[label]
    lex = lexicon.load()
    return bool(lex and lex.is_kind(word, name.replace(" ", "_")))


@functools.cache
def _tree_kinds() -> frozenset[str]:
    return frozenset(k for kinds in kinds_above().values() for k in kinds)


def _implied(words: set[str]) -> set[str]:
    """`words` of a scene's lines with what its labels imply: a detected face is a person in the scene."""
    return words | {_IMPLIES[w] for w in words if w in _IMPLIES}


def names_an_event(phrase: str) -> bool:
    """Whether a phrase's last word names something that happens ("the countdown", "the lift off", "the
    song"), which lasts, not a thing ("the rocket"), which has a size. False without WordNet."""
    lex = lexicon.load()
    words = _WORD.findall(phrase.lower())
    names = [_lemma(w) for w in words[-1:]] + ["".join(words[-2:]), "_".join(words[-2:])] * (len(words) > 1)
    return bool(lex) and any(lex.is_kind(k, name) for name in names for k in _EVENTS)  # "lift off": liftoff


_EVENTS = ("event", "act", "process", "phenomenon", "communication")


def _held(evidence: str) -> tuple[set[str], set[str]]:
    """The lemmas and the content words of an evidence text, with what it implies: its labels (a face is a
    person) and the setting of a place it puts something in ("parked in the garage": indoors)."""
    placed = placed_words(evidence)
    return _implied(lemmas(evidence)) | placed, _implied(content_words(evidence)) | placed


def places_in(text: str) -> dict[str, str]:
    """The places a text puts something in, by their setting (data/settings.yaml `places`): "parked in the
    garage" -> {"garage": "indoor"}, "stands in a field" -> {"field": "outdoors"}, "in the parking lot" (a
    two-word name first) -> {"lot": "outdoors"}. Only after a preposition of place: "past the house" puts
    nothing indoors. Empty without WordNet."""
    lex = lexicon.load()
    if lex is None:
        return {}
    out = {}
    for found in _IN_PLACE.finditer(text):
        words = list(itertools.takewhile(lambda w: w not in _STOP, found.group(1).lower().split()))
        if not words:
            continue
        for name in dict.fromkeys(["_".join(words[-2:]), words[-1]]):
            setting = next((s for s, (kinds, _) in place_settings().items() if lex.first_noun_under(name, kinds)), None)
            if setting:
                out[_lemma(words[-1])] = setting
                break
    return out


def placed_words(text: str) -> set[str]:
    """The words of the settings a text puts something in ("in the garage": indoor, indoors, inside)."""
    return {w for setting in set(places_in(text).values()) for w in place_settings()[setting][1]}


def _opposed_place(word: str, asked_in: dict[str, str], held: set[str]) -> bool:
    """Whether the place a question puts something in ("is this inside a building?": indoors) has its
    opposite setting in the evidence ("setting: outdoors"; "stands in a field")."""
    setting = asked_in.get(word)
    return bool(setting) and any(opposed(w, held) for w in place_settings()[setting][1])


_IN_PLACE = re.compile(
    r"\b(?:in|inside|into|within|at|on|onto|across|through|along|around)\s+"
    r"(?:(?:a|an|the|this|that|his|her|their|its|my|our|your|some)\s+)?([a-z]+(?:\s+[a-z]+){0,2})",
    re.I,
)


def _compound_tails(question: str) -> set[str]:
    """The last word of each hyphenated compound: a two-wheeler is no wheeler, nor a know-it-all an all, so
    the person check does not read the compound as the kind its last word names."""
    return {_lemma(m.group(1).lower()) for m in _COMPOUND_TAIL.finditer(question)}


def _absent_person(subjects: set[str], held: set[str], words: set[str]) -> str | None:
    """Why a scene cannot be what a question about a person ("what does the chef cook?") is about: the
    question names someone, and the scene neither names them nor holds any person."""
    if subjects <= held:  # the scene names everyone the question does
        return None
    lex = lexicon.load()
    people = sorted(w for w in subjects if lex and lex.names_a("person", w) and not _mentioned(w, held, words))
    if people and not any(lex.names_a("person", w) for w in words):
        return f"the question is about a {people[0]}, and the scene holds no person"
    return None


_RELATED = 0.65  # MiniLM word similarity: pet~cat 0.74, colour~red 0.75; material~soft 0.59, bird~cat 0.53
ON_SCREEN_WORDS = set(
    "text write written writing word sign banner screen caption title label poster letter overlay subtitle read "
    "say".split()
)
_WHO = re.compile(r"^\s*(?:and\s+)?who\b", re.I)
_NAME_ASKED = re.compile(r"\b(?:name|names|named|called|call|surname)\b", re.I)  # not "what language is spoken?"
_DIGITS = dict(enumerate("zero one two three four five six seven eight nine ten eleven twelve".split()))


def _numbers_as_words(words: set[str]) -> set[str]:
    """Small numbers written as digits as words instead, so "3" in an answer matches "three" in speech."""
    return {_DIGITS.get(int(w), w) if w.isdigit() else w for w in words}


def asks_for_text(question: str) -> bool:
    """Whether the question asks about on-screen text (a sign, a banner, words on the screen); "in a few
    words" says how long the answer should be, not what it is about."""
    return bool(_ON_SCREEN.search(_ANSWER_LENGTH.sub("", question)))


_ANSWER_LENGTH = re.compile(
    r"\b(?:in|with|using)\s+(?:just\s+|only\s+)?(?:a\s+few|a\s+couple\s+of|as\s+few|few|one|two|three|four|five|"
    r"ten|\d+|your\s+own|other|simple|plain)\s+(?:\w+\s+)?words?\b",
    re.I,
)


def mentions(question: str, evidence: str) -> bool:
    """Whether the evidence names anything the question asks about (a cat for "which animal")."""
    held, words = lemmas(evidence), content_words(evidence)
    return any(_mentioned(w, held, words) for w in content_words(question))


def negated(text: str) -> bool:
    """Whether the text says "not", "no", "never", ... ."""
    return bool(_NEGATION.search(text))


def polarity(question: str, evidence: str) -> str:
    """The answer to a yes/no question whose things the evidence mentions: "No" when exactly one of
    the two is negated ("Was he ill-disposed?" / "He was not an ill-disposed young man")."""
    tag = _TAG.search(question)
    if tag and (tag["not"] or tag["not_after"]):
        question = question[: tag.start()] + "?"
    question = _NEGATIVE_OPENING.sub(r"\1", question)
    return "No" if bool(_NEGATION.search(question)) != bool(_NEGATION.search(evidence)) else "Yes"


# "Isn't the coffee hot?" and "the coffee is hot, isn't it?" ask what "is the coffee hot?" asks: the "not"
# of the opening (or of the tag) is how the question is put, not part of what it asks about.
_AUX = r"(?:is|are|was|were|does|do|did|can|could|has|have|had|will|would)"
_NEGATIVE_OPENING = re.compile(rf"^(\W*(?:and\s+)?{_AUX})\s+not\b", re.I)
_TAG = re.compile(
    rf",\s*{_AUX}(?:(?P<not>\s+not)?\s+(?:it|he|she|they|there|that|this)|\s+(?:it|he|she|they|there|that|this)"
    r"(?P<not_after>\s+not))\s*\?\s*$",  # "isn't it?" is written out "is it not?"; "is not it?" too
    re.I,
)


def stated(question: str, evidence: str) -> tuple[str, str] | None:
    """The yes/no that the evidence's own sentence gives, with that sentence, when one sentence names
    everything the question is about ("Was he ill-disposed?" over "He was not an ill-disposed young man" is
    a No, whatever the model wrote), or names the rest and the opposite of what it asks ("Is the coffee
    cold?" over "hot coffee" is a No); None when no sentence does, or they disagree. A condition states
    nothing ("Unless to be rather selfish is to be ill-disposed, ..." is not a Yes)."""
    about = question_subjects(question)
    if not about:
        return None
    actions = [v for v in asked_actions(question) if v not in _placed(question)]
    asked_in = places_in(question)
    said = {}
    for sentence in re.split(r"(?<=[.!?;])\s+", evidence):
        held, words = _held(sentence)
        rest = {w for w in about if not _mentioned(w, held, words)}  # a bike is named by "a motorcycle"
        if _CONDITION.search(sentence) or rest == about:
            continue
        if not all(_says_action(v, held, words) for v in actions):
            continue  # "is the cat sleeping?": a sentence about the cat that says nothing of sleep states nothing
        if not rest:
            said[polarity(question, sentence)] = sentence
        elif all(opposed(w, held) or _opposed_place(w, asked_in, held) for w in rest) and not negated(sentence):
            # "is the coffee cold?": "hot coffee"; "is the motorcycle outdoors?": "parked in the garage"
            said["No"] = sentence
    return next(iter(said.items())) if len(said) == 1 else None


# The basic colour terms: a thing said to be one of them is none of the others ("is the motorcycle blue?"
# over "a red motorcycle" is a No). WordNet gives colours no antonyms.
_COLOURS = {
    "red", "blue", "green", "yellow", "orange", "purple", "pink", "brown", "black", "white", "grey", "gray",
    "silver", "gold", "golden", "beige", "violet",
}  # fmt: skip
_SAME_COLOUR = {"gray": "grey", "golden": "gold"}


def opposed(word: str, held: set[str]) -> bool:
    """Whether the evidence holds the opposite of the adjective or adverb `word` (cold: "hot coffee"; new:
    "old coins"; indoors: "setting: outdoors"), or, for a colour, another colour (blue: "a red motorcycle")."""
    if word in _COLOURS:
        same = _SAME_COLOUR.get(word, word)
        return any(_SAME_COLOUR.get(w, w) != same for w in held & _COLOURS)
    lex = lexicon.load()
    if lex is None:
        return False
    if (lex.is_adjective(word) or lex.is_adverb(word)) and lex.antonyms(word) & held:
        return True
    return bool(lex.is_noun(word) and lex.period_antonyms(word) & held)  # "daytime": "setting: night"


def asked_kind(question: str) -> str | None:
    """The noun naming what the answer must be ("which animal", "what kind of vehicle", "the color of")."""
    for pattern in _ASKED_KIND:
        found = pattern.search(question)
        if found:
            word = _lemma(found.group(1).lower())
            return None if word in _STOP else word
    return None


def asked_actions(question: str) -> list[str]:
    """The verbs a question asks about: inflected ones ("eating", "made", "owns") and the bare one after
    "does the <noun>" ("when does the rocket lift off"); not those about the video itself ("shown", "said")."""
    words = _WORD.findall(question.lower())
    out = []
    for before, word in zip(["", *words], words, strict=False):
        if word in _STOP or before in _DETERMINERS:  # "would", "been"; "inside a building" names no building
            continue
        found = getAllLemmas(word)
        verb, noun = found.get("VERB", ("",))[0], found.get("NOUN", (word,))[0]
        if verb and verb != word and noun == word:
            out.append(verb)
    bare = _DOES_NOUN_VERB.search(question)
    if bare and getAllLemmas(bare.group(1).lower()).get("VERB"):
        out.append(bare.group(1).lower())
    return [v for v in dict.fromkeys(out) if v not in _ABOUT_THE_VIDEO]


def unasked(question: str, evidence: str) -> str | None:
    """Why `evidence` does not hold what the question asks for: the kind it asks for ("which brand"), or
    an action it does not state ("what is the rocket carrying?" over "the rocket stands on the pad"); None
    when it holds both. Stricter than `backs`, for when the code, not the model, picks the words."""
    return _unasked(question, lemmas(evidence), evidence)


def _unasked(question: str, held: set[str], evidence: str) -> str | None:
    """Why the evidence does not hold what the question asks for (its kind, its action), or None."""
    kind = asked_kind(question) if expects(question) not in ("name", "number") else None
    kind = kind if kind and kind not in held else None
    verbs = [
        v
        for v in asked_actions(question)
        if v not in held and v not in _placed(question) and not (v in _POSSESSION and _WITH.search(evidence))
    ]
    if not kind and not verbs:  # the evidence says it in the question's own words: no WordNet needed
        return None
    lex = lexicon.load()
    if lex is None:  # synonyms and kinds cannot be told apart from absence without WordNet
        return None
    words = content_words(evidence)
    if kind and lex.is_noun(kind) and not any(lex.is_kind(kind, w) for w in words):
        return f"the question asks which {kind}, and the evidence names none"
    for verb in verbs:
        if not any(lex.same_sense(verb, w) for w in words):
            return f"the evidence does not say it: {verb}"
    return None


def _mentioned(word: str, held: set[str], evidence_words: set[str]) -> bool:
    """Whether the evidence (its lemmas, its content words) names `word` itself, something of its kind,
    or an action of its sense."""
    if word in held:
        return True
    lex = lexicon.load()
    if lex is None:
        return False
    # Someone is named by a word whose first sense is a person ("photographer"), not by a rarer sense ("red")
    kind = lex.names_a if lex.names_a("person", word) else lex.is_kind
    # a word people use mostly as a verb is read as one: "the rocket stands on the pad" holds no table
    return any(kind(word, w) and not lex.mostly_verb(w) or lex.same_sense(word, w) for w in evidence_words)


# Where in the video a question looks ("is there a dog in the first scene?"): the code finds that scene; what
# it must hold is the rest.
_PLACES = set(
    "first second third fourth fifth sixth seventh eighth ninth tenth last penultimate final opening closing middle "
    "next previous preceding following".split()
)
_PARTS_OF_THE_VIDEO = set("video clip film footage recording scene shot part segment frame".split())
_DEFINITE = r"\b(?:the|this|that)\s+"


def _presupposed_person(word: str, question: str, words: set[str]) -> bool:
    """Whether a yes/no question takes someone as given ("is the man wearing a tie?": it asks about the tie)
    and the scene holds a person (a face is one): who it is, the scene need not say."""
    if not re.search(_DEFINITE + re.escape(word) + r"\b", question, re.I):
        return False
    lex = lexicon.load()
    return bool(lex and lex.names_a("person", word) and any(lex.names_a("person", w) for w in words))


# Nouns a summary uses for the video itself and its parts, which no scene's lines need to hold.
_OF_THE_VIDEO = set(
    "video clip film footage recording scene shot part segment sequence series moment time beginning start end "
    "second minute frame image picture view screen text caption speech narration narrator speaker voice word "
    "sound audio label setting thing way number".split()
)


_PIECES = re.compile(r"(,\s*(?:and\s+|then\s+|including\s+)?|\s+and\s+|\s+then\s+|;\s*)")
_VERB_OBJECT = re.compile(
    r"^(.*\b(?:shows?|showing|features?|featuring|depicts?|has|contains?|includes?))\s+\S.*$", re.I
)
_DANGLING = re.compile(
    r"\s*\b(?:a|an|the|of|about|with|in|on|at|to|from|for|and|or|is|are|being|his|her|its|their|my|our|your|"
    r"this|that|these|those|some|two|three|four|five|several|many|[a-z]+'s|[a-z]+s')$",  # "about a man's"
    re.I,
)


def without_unbacked(sentence: str, evidence: list[str]) -> str:
    """The sentence less what names something no evidence holds, cut at the first such word of each listed
    piece ("a car driving on a street" -> "a car"; "a series of scenes about a space mission, including an
    astronaut" -> "a series of scenes, including an astronaut"), a piece dropped when nothing before that
    word says anything ("shows a space station, a cat" -> "shows a cat"). Only what is there is cut; nothing
    is added. "" when nothing is left that says something."""
    parts = _PIECES.split(sentence.strip().rstrip("."))
    pieces, seps = parts[0::2], ["", *parts[1::2]]
    kept: list[tuple[str, str]] = []
    bare_verb = False  # the first piece was cut to its verb ("This video shows"): the next kept one is its object
    for i, (sep, piece) in enumerate(zip(seps, pieces, strict=True)):
        cut = _before_unbacked(piece, evidence)
        if cut is not None and i > 0 and not says_something(cut):  # "a dog, two, a car": a stray number
            continue
        if cut is None and i == 0 and (verb := _VERB_OBJECT.match(piece)):  # "This video shows" + the next piece
            kept.append(("", verb.group(1)))
            bare_verb = True
            continue
        if cut is None:
            if i == 0:
                return ""
            continue
        kept.append((" " if bare_verb else sep if kept else "", cut))  # no comma between a verb and its object
        bare_verb = False
    text = "".join(sep + piece for sep, piece in kept).strip(" ,;")
    if not text or unbacked_things(text, evidence) or not says_something(text):
        return ""
    return text + "."


def _before_unbacked(piece: str, evidence: list[str]) -> str | None:
    """The piece up to its first word naming something no evidence holds (the whole piece when it has
    none); None when what comes before that word says nothing."""
    bad = set(unbacked_things(piece, evidence))
    if not bad:
        return piece
    for m in _WORD.finditer(piece):
        word = m.group().lower()
        if _lemma(word) in bad or getAllLemmas(word).get("VERB", ("",))[0] in bad:
            head = piece[: m.start()].rstrip(" ,;")
            while head != (shorter := _DANGLING.sub("", head)):  # "a man speaking about his" -> "a man speaking"
                head = shorter
            return head if _names_a_thing(head) and not unbacked_things(head, evidence) else None
    return None


def _names_a_thing(text: str) -> bool:
    """Whether a cut piece still names a thing (a noun people use as one), not only an action left dangling
    ("wearing" of "wearing a shirt" once the shirt is cut)."""
    lex = lexicon.load()
    words = content_words(text) - _OF_THE_VIDEO - _ABOUT_THE_VIDEO
    if lex is None:
        return says_something(text)
    return any(_a_thing(w, lex) for w in words)


def _a_thing(word: str, lex: lexicon.Lexicon) -> bool:
    """Whether people use `word` as a noun: not mostly a verb ("stands") or an adjective ("high"), nor a number."""
    return lex.is_noun(word) and not lex.mostly_verb(word) and not lex.mostly_adjective(word) and not _is_number(word)


def says_something(sentence: str) -> bool:
    """Whether a sentence names anything beyond the video and its parts and numbers ("The scenes are." and
    "two" do not)."""
    return any(not _is_number(w) for w in content_words(sentence) - _OF_THE_VIDEO - _ABOUT_THE_VIDEO)


def unbacked_things(text: str, evidence: list[str]) -> list[str]:
    """The things (nouns), actions (inflected verbs) and colours `text` names that none of the `evidence`
    texts hold, nor anything of their kind or sense (a colour: itself): a summary of a silent video's labels
    that says "a person throwing a ball" invents the throwing and the ball."""
    lex = lexicon.load()
    if lex is None:
        return []
    held, words = _held_by(tuple(evidence))
    nouns = [w for w in sorted(content_words(text) - _OF_THE_VIDEO - _ABOUT_THE_VIDEO) if _a_thing(w, lex)]
    actions = [v for v in asked_actions(text) if v not in nouns]  # "a whale swimming": is swimming said?
    # a colour is seen or said, never guessed: "a brown dog" over a classifier's "dog 90%"
    colours = [w for w in sorted(content_words(text)) if lex.is_adjective(w) and lex.is_kind("color", w)]
    return [w for w in [*nouns, *actions] if not _mentioned(w, held, words)] + [c for c in colours if c not in held]


@functools.lru_cache(maxsize=8)
def _held_by(evidence: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """The lemmas and content words of all the evidence texts, with what labels imply (frozen: they are
    shared): read once per summary, not once for each sentence, piece and cut `without_unbacked` checks."""
    both = [_held(e) for e in evidence]
    return frozenset().union(*(h for h, _ in both)), frozenset().union(*(w for _, w in both))


def _says_action(verb: str, held: set[str], words: set[str]) -> bool:
    """Whether a text says the action itself or one of its senses ("rests" for "lying"); unlike
    `_mentioned`, no noun kinds (to WordNet a rest is a kind of sleep, "rests" does not say "sleeps")."""
    lex = lexicon.load()
    return verb in held or (lex is not None and any(lex.same_sense(verb, w) for w in words))


def _words(text: str) -> list[str]:
    """The words of `text`, its contractions written out, a possessive's "'s" dropped ("the man's name":
    man, name; not an "s" no scene mentions) and a hyphenated compound WordNet knows as one word joined
    ("kind-hearted", the ASR's "cold -hearted": not a "hearted" both share)."""
    text = _HYPHENATED.sub(_compound, text) if "-" in text else text
    return _WORD.findall(_POSSESSIVE.sub("", forms.plain(text)))


_HYPHENATED = re.compile(r"\b([A-Za-z]+)\s?-\s?([A-Za-z]+)\b")


def _compound(found: re.Match) -> str:
    joined = (found.group(1) + found.group(2)).lower()
    return joined if _known_word(joined) else found.group()


@functools.lru_cache(maxsize=4096)
def _known_word(word: str) -> bool:
    lex = lexicon.load()
    return bool(lex and (lex.is_adjective(word) or lex.is_noun(word)))


def lemmas(text: str) -> set[str]:
    return {_lemma(w.lower()) for w in _words(text)}


def content_words(text: str) -> set[str]:
    return {_lemma(w.lower()) for w in _words(text) if w.lower() not in _STOP}


def _lemma(word: str) -> str:
    found = lemma(word)
    return _SUPPLETIVE.get(found, found)


def _facts(text: str) -> set[str]:
    """Lemmas of the names (capitalised words that do not just start a sentence) and numbers in `text`."""
    out = set()
    for m in _WORD.finditer(text):
        word = m.group().lower()
        starts_sentence = not text[: m.start()].strip() or text[: m.start()].rstrip()[-1] in ".!?\"'"
        if _is_number(word) or (m.group()[:1].isupper() and not starts_sentence and word not in _STOP):
            out.add(_lemma(word))
    return out


def _is_number(word: str) -> bool:
    return any(c.isdigit() for c in word) or word in _NUMBER_WORDS
