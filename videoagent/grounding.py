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
Yes/no questions are grounded when the evidence mentions every thing the question asks about, "when"
questions (answered with the line's time span) when it mentions any of them, and either-or questions
("cold-hearted or warm-hearted?") when it holds exactly one of the two choices, which is the answer.

Words match by lemma (lemminflect), so "rests" supports "resting".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from .tagmatch import lemma

_NUMBER_WORDS = set(
    "zero one two three four five six seven eight nine ten eleven twelve fifteen twenty forty fifty sixty hundred "
    "thousand million first third".split()
)
# scikit-learn's stop words hold numbers and content words that matter in a video ("fire", "front",
# "empty", "bill", "name"); those stay content. Words that say nothing about a video's content join.
_CONTENT = _NUMBER_WORDS | set(
    "fire empty full thick thin bill system move front back top bottom side cry name call made fill mill".split()
)
_GENERIC = set("video clip scene shown show answer evidence appear happen thing kind type".split())
_STOP = (ENGLISH_STOP_WORDS - _CONTENT) | _GENERIC
_WORD = re.compile(r"[A-Za-z0-9]+")
_YES_NO = re.compile(r"^\s*(is|are|was|were|does|do|did|can|could|has|have|had|will|would)\b", re.I)
_CHOICE = re.compile(r"\b([\w-]+)\s+or\s+(?!not\b|no\b)(?:(?:a|an|the)\s+)?([\w-]+)\s*\??\s*$", re.I)
_WHEN = re.compile(r"^\s*(when|at what (time|point)|what time|how (early|late))\b", re.I)
# A name or a number is asked for by these nouns anywhere ("the price of the coffee"), or by a place
# noun right after which/what ("which city", "what camera brand").
_ASKS_NAME = re.compile(
    r"\b(name|named|called|brand|company|maker|manufacturer)\b"
    r"|\b(which|what)\s+(\w+\s+)?(city|town|country|state|street|station|team|language|model)\b",
    re.I,
)
_ASKS_NUMBER = re.compile(r"\b(price|cost|costs|year|age|speed)\b|\bhow\s+(much|many|old|far|fast|long|often)\b", re.I)


@dataclass(frozen=True)
class Support:
    grounded: bool
    reason: str


def expects(question: str) -> str:
    """The answer type the question asks for: choice | yes_no | when | name | number | open."""
    if _CHOICE.search(question):
        return "choice"
    if _YES_NO.match(question):
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
    held = _lemmas(evidence)
    # Compare the words that tell the choices apart ("warm" vs "cold" in "warm-hearted or cold-hearted").
    left, right = _content(found.group(1)), _content(found.group(2))
    options = [(found.group(1), left - right), (found.group(2), right - left)]
    kept = [text for text, words in options if words and words <= held]
    return kept[0] if len(kept) == 1 else None


def check(question: str, answer: str, evidence: str, evidence_is_text_on_screen: bool = False) -> Support:
    """Whether `answer` to `question` is backed by the `evidence` line it was drawn from."""
    asked = _lemmas(question)
    held = _lemmas(evidence)
    kind = expects(question)
    if kind == "yes_no":
        missing = sorted(_content(question) - held)
        return Support(not missing, f"not in the evidence: {', '.join(missing)}" if missing else "all mentioned")
    if kind == "choice":
        picked = choice(question, evidence)
        return Support(picked is not None, f"holds: {picked}" if picked else "holds neither choice, or both")
    if kind == "when":
        shared = sorted(_content(question) & held)
        return Support(bool(shared), f"mentions: {', '.join(shared)}" if shared else "mentions nothing asked about")
    invented = sorted(_facts(answer) - held - asked)
    if invented:
        return Support(False, f"not in the evidence: {', '.join(invented)}")
    added = _content(answer) & held - asked
    if not added:
        return Support(False, "adds nothing from the evidence to the question")
    facts = held if evidence_is_text_on_screen else _facts(evidence)
    if kind == "name" and not any(not _is_number(w) for w in facts - asked):
        return Support(False, "the question asks for a name and the evidence holds none")
    if kind == "number" and not any(_is_number(w) for w in held):
        return Support(False, "the question asks for a number and the evidence holds none")
    return Support(True, "found in the evidence: " + ", ".join(sorted(added)))


def _lemmas(text: str) -> set[str]:
    return {lemma(w.lower()) for w in _WORD.findall(text)}


def _content(text: str) -> set[str]:
    return {lemma(w.lower()) for w in _WORD.findall(text) if w.lower() not in _STOP}


def _facts(text: str) -> set[str]:
    """Lemmas of the names (capitalised words that do not just start a sentence) and numbers in `text`."""
    out = set()
    for m in _WORD.finditer(text):
        word = m.group().lower()
        starts_sentence = not text[: m.start()].strip() or text[: m.start()].rstrip()[-1] in ".!?\"'"
        if _is_number(word) or (m.group()[:1].isupper() and not starts_sentence and word not in _STOP):
            out.add(lemma(word))
    return out


def _is_number(word: str) -> bool:
    return any(c.isdigit() for c in word) or word in _NUMBER_WORDS
