"""Test doubles for the QA plumbing, in the spirit of simonw/llm's mock model: scripted replies and scores
that follow a rule stated here, so planner, agent and CLI logic runs without loading any weights.

None of these is a model. They live under tests/ only; nothing in the package, its profiles or
`videoagent models` knows them. Tests built on them check plumbing and logic (which span is cited, when
the planner refuses, what the CLI prints), never the quality of an answer.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from videoagent.qa.llm import LocalChatModel

# Words too common to say what a line is about (the rest of a text is its "content words").
_STOP = set(
    "the and but for with from into onto this that these those what which who whom whose where when why how "
    "does did done has have had are was were been being is it its his her their there here any some say says".split()
)


def content_words(text: str) -> list[str]:
    """Lower-cased words of three letters or more, stop words left out."""
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= 3 and w not in _STOP]


class ScriptedChatModel(GenericFakeChatModel):
    """Plays back fixed AI messages; accepts tools like a tool-calling model (the tool planner's plumbing)."""

    def bind_tools(self, tools: Any, **kwargs: Any):
        return self


class ScriptedWriter(BaseChatModel):
    """Stands in for an instruction-tuned chat model (the answering planner's): plays back `replies` in
    order ("" once they run out) and records the messages of each call in `calls`, as (role, text) pairs."""

    replies: list[str] = []
    _calls: list[list[tuple[str, str]]] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "fake-scripted-writer"

    @property
    def calls(self) -> list[list[tuple[str, str]]]:
        return self._calls

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        self._calls.append([(m.type, str(m.content)) for m in messages])
        n = len(self._calls) - 1
        text = self.replies[n] if n < len(self.replies) else ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


class ScriptedScorer(LocalChatModel):
    """Stands in for a local LLM where the grounded planner needs one (`logprob`, `complete`, `render`).

    - `logprob(prompt, text)` = -1 + the number of the text's content words that the prompt contains. The
      planner's PMI (prompt with the question minus the neutral prompt) is then simply how many of the
      question's content words a line repeats.
    - `complete()` plays back `replies` in order ("" once they run out) and records each prompt in `prompts`.

    It subclasses LocalChatModel only so that `open_agent`'s planner choice (`planner: auto`) takes the
    grounded planner for it; it has no weights, tokenizer or chat template.
    """

    model_name: str = "fake:scripted-scorer"
    replies: list[str] = []
    _prompts: list[str] = PrivateAttr(default_factory=list)

    def __init__(self, replies: Iterable[str] = (), **kwargs: Any):
        # LocalChatModel.__init__ wants a transformers model and tokenizer: skip it.
        super(LocalChatModel, self).__init__(replies=list(replies), **kwargs)

    @property
    def _llm_type(self) -> str:
        return "fake-scripted-scorer"

    @property
    def has_chat_template(self) -> bool:
        return False

    @property
    def prompts(self) -> list[str]:
        return self._prompts

    def render(self, messages: Sequence[BaseMessage]) -> str:
        return "".join(f"{m.type}: {m.content}\n" for m in messages) + "ai:"

    def complete(self, prompt: str, max_new_tokens: int | None = None, stop: Sequence[str] | None = None) -> str:
        self._prompts.append(prompt)
        n = len(self._prompts) - 1
        text = self.replies[n] if n < len(self.replies) else ""
        for s in stop or ():
            text = text.split(s, 1)[0]
        return text.strip()

    def logprob(self, prompts: Sequence[str], continuations: Sequence[str], batch_size: int = 16) -> list[float]:
        scores = []
        for prompt, text in zip(prompts, continuations, strict=True):
            said = set(content_words(prompt))
            scores.append(-1.0 + sum(w in said for w in content_words(text)))
        return scores


class HashedWords:
    """A text encoder's interface over a hashed bag of content words: texts that share words are close,
    texts that share none are orthogonal. (Exact words only: "kitty" is nowhere near "cat".)"""

    def __init__(self, dim: int = 256):
        self.name = f"fake-hashed-words-{dim}"
        self.dim = dim

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in zip(out, texts, strict=True):
            words = content_words(text)
            if not words:
                row[0] = 1.0  # no content words: one fixed direction, so the row still has unit length
            for w in words:
                row[1 + zlib.crc32(w.encode()) % (self.dim - 1)] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class SchemaEcho(BaseChatModel):
    """Stands in for a chat model held to a JSON schema (the describe stage's): every reply is the schema's
    shape filled by a rule, and each call's (system, user, schema) is kept in `calls`.

    - a string field named like a scene id ("S3") gets "line S3: " + the first content word quoted in that
      scene's input line (so a test can see which input each line came from);
    - `summary` gets "summary of " + the ids its input names; `title` gets "title";
    - `chapters` gets one chapter at the first id its `first` enum allows, and one at the last (as many of
      those two as its maxItems allows).
    """

    _calls: list[tuple[str, str, dict]] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "fake-schema-echo"

    @property
    def calls(self) -> list[tuple[str, str, dict]]:
        return self._calls

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        import json

        schema = kwargs["response_format"]["json_schema"]["schema"]
        system, user = str(messages[0].content), str(messages[-1].content)
        self._calls.append((system, user, schema))
        by_id = {m.group(1): m.group(2) for m in re.finditer(r'\[(S\d+)\][^"\n]*"([^"]*)"', user)}
        ids = re.findall(r"\[(S\d+)\]", user)
        reply: dict[str, Any] = {}
        for key, spec in schema["properties"].items():
            if re.fullmatch(r"S\d+", key):
                words = content_words(by_id.get(key, ""))
                reply[key] = f"line {key}: {words[0] if words else ''}"
            elif key == "summary":
                reply[key] = "summary of " + " ".join(ids)
            elif key == "title":
                reply[key] = "title"
            elif key == "chapters":
                allowed = spec["items"]["properties"]["first"]["enum"]
                two = [{"first": allowed[0], "title": "opening"}, {"first": allowed[-1], "title": "ending"}]
                reply[key] = two[: spec.get("maxItems", 2)]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=json.dumps(reply)))])
