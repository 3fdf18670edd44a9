"""LLM backends as LangChain chat models, chosen by the profile's `llm:` section.

- `local-gguf`: a GGUF file (the bundled Gemma 3 270M or SmolLM2-135M-Instruct, or a path) loaded with
  transformers; a bundled one is converted once to safetensors under `cache_dir()/llm/<name>`
  (`$XDG_CACHE_HOME/videoagent/llm/<name>`; models/weights.py), so a warm load reads plain tensors
  instead of de-quantising the GGUF again.
- `hf`: any Hugging Face causal LM (hub id or folder; nothing is downloaded here).
- `openai`: an OpenAI-compatible endpoint (`base_url`; the key comes from the environment).
- `ollama`: an Ollama server.

Local models are `LocalChatModel`s: besides chatting they *score* text (mean token log-probability),
which is what the grounded planner needs from models too small to follow instructions.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from ..config import LlmConfig
from ..models.weights import MissingWeights, resolve

log = logging.getLogger(__name__)


class LocalChatModel(BaseChatModel):
    """A transformers causal LM as a LangChain chat model that can also score continuations."""

    model_name: str
    max_new_tokens: int = 12
    temperature: float = 0.0
    threads: int = 0  # torch threads while this model runs (0: leave torch's setting alone)
    _model: Any = PrivateAttr()
    _tokenizer: Any = PrivateAttr()

    def __init__(self, model: Any, tokenizer: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self._model, self._tokenizer = model, tokenizer
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token

    @property
    def _llm_type(self) -> str:
        return "videoagent-local"

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self._tokenizer, "chat_template", None))

    def render(self, messages: Sequence[BaseMessage]) -> str:
        """The prompt text: the model's chat template, or a plain transcript for base models."""
        turns = [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]
        if self.has_chat_template:
            return self._tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
        return "".join(f"{t['role'].capitalize()}: {t['content']}\n" for t in turns) + "Assistant:"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = self.complete(self.render(messages), stop=stop)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    @contextmanager
    def _threads(self) -> Iterator[None]:
        """Run with `threads` torch threads, then restore the process's setting."""
        import torch

        before = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def complete(self, prompt: str, max_new_tokens: int | None = None, stop: Sequence[str] | None = None) -> str:
        """Continue `prompt` (greedy unless temperature > 0), cut at the first stop string."""
        import torch

        ids = self._tokenizer(prompt, return_tensors="pt", add_special_tokens=not self.has_chat_template)
        sample = self.temperature > 0
        with torch.inference_mode(), self._threads():
            out = self._model.generate(
                **ids,
                max_new_tokens=max_new_tokens or self.max_new_tokens,
                do_sample=sample,
                temperature=self.temperature if sample else None,
                top_p=None,
                top_k=None,
                pad_token_id=self._tokenizer.pad_token_id,
            )
        text = self._tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
        for s in stop or ():
            text = text.split(s, 1)[0]
        return text.strip()

    def logprob(self, prompts: Sequence[str], continuations: Sequence[str], batch_size: int = 16) -> list[float]:
        """Mean log-probability per token of each continuation given its prompt."""
        import torch

        tok = self._tokenizer
        rows = []
        for prompt, cont in zip(prompts, continuations, strict=True):
            head = tok(prompt, add_special_tokens=True)["input_ids"]
            tail = tok(cont, add_special_tokens=False)["input_ids"]
            rows.append((head, tail))
        scores: list[float] = []
        for i in range(0, len(rows), batch_size):
            batch = rows[i : i + batch_size]
            width = max(len(h) + len(t) for h, t in batch)
            keep = max(len(t) for _, t in batch) + 1
            ids = torch.full((len(batch), width), tok.pad_token_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for r, (h, t) in enumerate(batch):
                # Left padding puts every continuation at the end, so only the last `keep` positions need
                # logits: the vocabulary projection dominates the cost (Gemma's vocabulary is 262k).
                ids[r, width - len(h) - len(t) :] = torch.tensor(h + t)
                mask[r, width - len(h) - len(t) :] = 1
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.inference_mode(), self._threads():
                out = self._model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep)
            # logits[:, j] sits at position width-keep+j and predicts the token after it
            logp = torch.log_softmax(out.logits[:, :-1].float(), dim=-1)
            logp = logp.gather(-1, ids[:, width - keep + 1 :, None])[..., 0]
            scores += [float(logp[r, keep - 1 - len(t) :].mean()) if t else 0.0 for r, (_, t) in enumerate(batch)]
        return scores


_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}


def load_local(cfg: LlmConfig, device: str = "cpu") -> LocalChatModel:
    """A local model (bundled GGUF, .gguf path, folder or cached hub id) as a LocalChatModel."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve(cfg.model, "llm")  # a bundled GGUF is converted to safetensors once, in the cache
    started = time.perf_counter()
    kwargs: dict[str, Any] = {}
    if path.endswith(".gguf"):
        kwargs["gguf_file"], path = Path(path).name, str(Path(path).parent)
    tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(path, **kwargs).to(device).eval()
    log.info("llm %s loaded in %.1f s", cfg.model, time.perf_counter() - started)
    return LocalChatModel(
        model,
        tokenizer,
        model_name=cfg.model,
        max_new_tokens=cfg.max_new_tokens,
        temperature=cfg.temperature,
        threads=cfg.threads,
    )


def load_openai(cfg: LlmConfig) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    key = os.environ.get(cfg.api_key_env)
    if not key and not cfg.base_url:
        raise MissingWeights("llm", cfg.model, f"no API key: set ${cfg.api_key_env} (or a local base_url)")
    return ChatOpenAI(
        model=cfg.model,
        base_url=cfg.base_url,
        api_key=key or "not-needed",  # local OpenAI-compatible servers accept any key
        temperature=cfg.temperature,
        max_tokens=cfg.max_new_tokens,
        max_retries=2,
    )


def load_ollama(cfg: LlmConfig) -> BaseChatModel:
    from langchain_ollama import ChatOllama

    return ChatOllama(
        model=cfg.model, base_url=cfg.base_url, temperature=cfg.temperature, num_predict=cfg.max_new_tokens
    )
