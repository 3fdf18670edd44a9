"""A GGUF model on llama.cpp, in-process (xllamacpp), as a LangChain chat model.

Why llama.cpp and not transformers for the instruct models: the same Qwen2.5 1.5B GGUF loads in about a
second instead of 42, writes several times faster and needs 1.8 GB instead of 9 (DESIGN.md). xllamacpp
wraps llama.cpp's own server in the process: its OpenAI-style chat endpoint applies the GGUF's chat
template (jinja), keeps the last prompt's KV cache so a question over the same evidence prefix only
reads the new tokens, and turns a JSON schema into a grammar (`response_format`).

One `Server` per (file, context, threads, GPU layers) per process: loading twice would double the RAM.
Requests are serialised: the server has one slot, which is what keeps the shared prefix cached.

xllamacpp also starts llama.cpp's HTTP server on a random loopback port; it is given a random API key
that only this process knows, so nothing else on the machine can use it. This process uses it for one
thing: saving and restoring the slot's KV cache (`/slots/0?action=save|restore`). After a question whose
system message (the instructions and one video's scene list) is new, the slot is saved under the hash of
that message (`cache_dir()/llm-prompts/MODEL/`, at most `PROMPT_FILES` files, least recently used
dropped); a new process asked about the same video restores it and reads only the question, instead of
the whole scene list again (the cold `videoagent ask`).

Tools (`bind_tools`): offered the tools through the chat template, the 1.5B writes about calling them in
prose ("I will use the `get_ocr` function") or refuses, rather than calling (measured: tools/eval_tools.py).
So the tools are listed in the system message and the reply is constrained by a JSON schema (llama.cpp
turns it into a grammar): either `{"name": TOOL, "arguments": {...}}`, the arguments held to that tool's
own schema, or `{"answer": "..."}`. A reply is still read for a call written as JSON in the text (bare,
fenced or inside <tool_call> tags) in case a caller turns the grammar off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import re
import secrets
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from ..config import LlmConfig
from ..errors import ContextFull
from ..models.weights import MissingWeights, cache_dir, gguf_path
from ..native import system_libstdcxx_first

log = logging.getLogger(__name__)

_SERVERS: dict[tuple, _Runtime] = {}
_LOCK = threading.Lock()
PROMPT_FILES = 32  # saved prompt caches kept per model (each is the KV cache of one video's scene list)


@dataclass
class _Runtime:
    """One llama.cpp server, its private HTTP address and key, and the saved prompt caches."""

    server: Any
    address: str | None
    key: str
    prompts: Path | None  # where slot caches are saved (None: not saved)
    current: str | None = None  # the system message hash the slot holds

    def chat(self, request: dict[str, Any], callback: Callable | None = None) -> Any:
        """One chat completion, with the slot restored from, or saved to, the prompt cache around it."""
        with _LOCK:
            name = self._restore(request)
            if callback is None:
                reply = self.server.handle_chat_completions(request)
            else:
                reply = self.server.handle_chat_completions(request, callback)
            self._save(name)
            return reply

    def _restore(self, request: dict[str, Any]) -> str | None:
        system = next((m["content"] for m in request["messages"] if m["role"] == "system"), None)
        if not system or self.prompts is None or self.address is None:
            return None
        name = hashlib.sha256(system.encode()).hexdigest()[:24] + ".bin"
        if name != self.current and (self.prompts / name).is_file():
            if self._slots("restore", name) is not None:
                os.utime(self.prompts / name)  # recently used
                self.current = name
        return name

    def _save(self, name: str | None) -> None:
        if name is None or self.prompts is None:
            return
        self.current = name
        if (self.prompts / name).is_file():
            return
        tmp = f".{name}.{os.getpid()}.tmp"
        if self._slots("save", tmp) is not None and (self.prompts / tmp).is_file():
            os.replace(self.prompts / tmp, self.prompts / name)
            for old in sorted(self.prompts.glob("*.bin"), key=lambda f: f.stat().st_mtime)[:-PROMPT_FILES]:
                old.unlink(missing_ok=True)

    def _slots(self, action: str, filename: str) -> dict | None:
        request = urllib.request.Request(
            f"{self.address}/slots/0?action={action}",
            data=json.dumps({"filename": filename}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return json.loads(reply.read())
        except (OSError, ValueError) as exc:  # a cache that cannot be used costs time, not the answer
            log.warning("llama.cpp prompt cache: %s %s failed: %s", action, filename, exc)
            return None


class LlamaCppChat(BaseChatModel):
    """Chat completions from a GGUF on llama.cpp. `invoke(messages, stop=[...], response_format={...})`;
    temperature 0 (greedy) unless the profile says otherwise."""

    model_name: str
    path: str
    max_tokens: int = 200
    temperature: float = 0.0
    n_ctx: int = 4096
    threads: int = 2
    gpu_layers: int = 0
    save_prompts: bool = True  # keep each video's processed scene list on disk for the next process
    _runtime: _Runtime = PrivateAttr()

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._runtime = _server(self.path, self.n_ctx, self.threads, self.gpu_layers, self.save_prompts)

    @property
    def _llm_type(self) -> str:
        return "videoagent-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model_name, "n_ctx": self.n_ctx}

    def bind_tools(self, tools: Sequence[dict[str, Any] | type | Callable | BaseTool], **kwargs: Any) -> Runnable:
        kwargs.pop("tool_choice", None)  # the model chooses (or answers)
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        request: dict[str, Any] = {
            "messages": convert_to_openai_messages(messages),
            "max_tokens": kwargs.pop("max_tokens", self.max_tokens),
            "temperature": kwargs.pop("temperature", self.temperature),
            "cache_prompt": True,
        }
        if stop:
            request["stop"] = list(stop)
        tools = kwargs.pop("tools", None)
        if tools:  # listed in the system message, the reply held to "call one or answer" by a grammar
            request["messages"] = _with_tool_list(request["messages"], tools)
            request["response_format"] = {"type": "json_schema", "json_schema": {"schema": _call_or_answer(tools)}}
        request.update(kwargs)  # response_format, grammar, seed, ...
        return request

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        started = time.perf_counter()
        reply = self._runtime.chat(self._request(messages, stop, **kwargs))
        if "error" in reply:
            _raise(self.path, reply["error"])
        choice = reply["choices"][0]
        usage = reply.get("usage", {})
        content = choice["message"].get("content") or ""
        calls, invalid = _tool_calls(choice["message"], content, kwargs.get("tools"))
        if kwargs.get("tools") and not calls and not invalid:
            content = _answer_field(content)
        info = {
            "finish_reason": choice.get("finish_reason"),
            "prompt_tokens": usage.get("prompt_tokens"),
            "cached_tokens": (usage.get("prompt_tokens_details") or {}).get("cached_tokens"),
            "completion_tokens": usage.get("completion_tokens"),
            "seconds": round(time.perf_counter() - started, 3),
        }
        if calls or invalid:
            content = ""  # the reply was a call, not an answer
        message = AIMessage(content=content, tool_calls=calls, invalid_tool_calls=invalid, response_metadata=info)
        return ChatResult(generations=[ChatGeneration(message=message, generation_info=info)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # The server calls back once per token while handle_chat_completions runs: run it in a thread and
        # hand the pieces over through a queue, so the caller sees tokens as they come.
        pieces: queue.Queue = queue.Queue()
        request = self._request(messages, stop, **kwargs) | {"stream": True}

        def work() -> None:
            try:
                self._runtime.chat(request, pieces.put)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
                pieces.put(exc)
            pieces.put(None)

        threading.Thread(target=work, daemon=True).start()
        while (piece := pieces.get()) is not None:
            if isinstance(piece, BaseException):
                raise piece
            if "error" in piece:
                _raise(self.path, piece["error"])
            for choice in piece.get("choices", []):
                text = (choice.get("delta") or {}).get("content")
                if text:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk


def _with_tool_list(messages: list[dict[str, Any]], tools: list[dict]) -> list[dict[str, Any]]:
    lines = []
    for t in tools:
        f = t["function"]
        params = {k: v.get("type", "any") for k, v in (f.get("parameters") or {}).get("properties", {}).items()}
        lines.append(f"- {f['name']}: {f.get('description', '')} Arguments: {json.dumps(params)}")
    listing = (
        "Tools you can call:\n" + "\n".join(lines) + '\nReply with one JSON object: {"name": TOOL, "arguments": {...}} '
        'to call a tool, or {"answer": "..."} once the tool results answer the question (or show they cannot).'
    )
    if messages and messages[0]["role"] == "system":
        return [{**messages[0], "content": f"{messages[0]['content']}\n\n{listing}"}, *messages[1:]]
    return [{"role": "system", "content": listing}, *messages]


def _call_or_answer(tools: list[dict]) -> dict[str, Any]:
    """The JSON schema of a reply: a call to one of the tools with its own arguments, or an answer."""
    calls = [
        {
            "type": "object",
            "properties": {
                "name": {"const": t["function"]["name"]},
                "arguments": t["function"].get("parameters") or {"type": "object"},
            },
            "required": ["name", "arguments"],
        }
        for t in tools
    ]
    answer = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    return {"anyOf": [*calls, answer]}


def _answer_field(content: str) -> str:
    """The `answer` of a grammar-held reply (the text itself when it is not that JSON)."""
    try:
        obj = json.loads(content)
    except ValueError:
        return content
    return str(obj["answer"]) if isinstance(obj, dict) and "answer" in obj else content


_CALL_BLOCK = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)|```(?:json)?\s*(.*?)```", re.S)


def _tool_calls(message: dict[str, Any], content: str, tools: list[dict] | None) -> tuple[list[dict], list[dict]]:
    """The reply's tool calls: those the server parsed from the template's markup, else JSON calls
    written in the text that name a bound tool. Returns (valid calls, invalid ones)."""
    if not tools:
        return [], []
    names = {t["function"]["name"] for t in tools}
    raw = [(c["function"]["name"], c["function"].get("arguments")) for c in message.get("tool_calls") or []]
    if not raw:
        blocks = [a or b for a, b in _CALL_BLOCK.findall(content)] or [content]
        for block in blocks:
            for obj in _json_objects(block):
                if isinstance(obj, dict) and obj.get("name") in names:
                    raw.append((obj["name"], obj.get("arguments", obj.get("parameters", obj.get("args", {})))))
    calls, invalid = [], []
    for name, args in raw:
        call_id = f"call_{uuid.uuid4().hex[:12]}"
        try:
            parsed = json.loads(args) if isinstance(args, str) else (args or {})
            if not isinstance(parsed, dict):
                raise ValueError("arguments are not a JSON object")
            calls.append({"name": name, "args": parsed, "id": call_id, "type": "tool_call"})
        except ValueError as exc:
            invalid.append(
                {"name": name, "args": str(args), "id": call_id, "error": str(exc), "type": "invalid_tool_call"}
            )
    return calls, invalid


def _raise(path: str, error: Any) -> None:
    if isinstance(error, dict) and error.get("type") == "exceed_context_size_error":
        raise ContextFull(
            f"{Path(path).name}: the request ({error.get('n_prompt_tokens')} tokens) exceeds the model's context "
            f"({error.get('n_ctx')} tokens)"
        )
    raise RuntimeError(f"llama.cpp ({Path(path).name}): {error}")


def _json_objects(text: str) -> Iterator[Any]:
    """Every JSON value that starts at a '{' in `text` (the model may wrap its call in prose)."""
    decoder = json.JSONDecoder()
    i = text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except ValueError:
            i = text.find("{", i + 1)
            continue
        yield obj
        i = text.find("{", end)


def _server(path: str, n_ctx: int, threads: int, gpu_layers: int, save_prompts: bool) -> _Runtime:
    key = (path, n_ctx, threads, gpu_layers)
    with _LOCK:
        if key not in _SERVERS:
            # the KV layout differs with flash attention (V transposed without it): a cache per setting
            name = f"{Path(path).stem}-ctx{n_ctx}-{'fa' if gpu_layers > 0 else 'nofa'}"
            prompts = cache_dir() / "llm-prompts" / name if save_prompts else None
            _SERVERS[key] = _start(*key, prompts)
        return _SERVERS[key]


def _start(
    path: str, n_ctx: int, threads: int, gpu_layers: int, prompts: Path | None, tune: Callable | None = None
) -> _Runtime:
    """A llama.cpp server in this process; `tune(params)` may change its settings last (benchmarks do)."""
    system_libstdcxx_first()
    try:
        import xllamacpp
    except ImportError as exc:
        raise MissingWeights("llm", path, "the llama-cpp backend needs the xllamacpp package") from exc
    started = time.perf_counter()
    params = xllamacpp.CommonParams()
    params.model.path = path
    params.n_ctx = n_ctx
    params.n_parallel = 1  # one slot: its KV cache is the shared evidence prefix
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.n_gpu_layers = gpu_layers
    # llama.cpp's "fit" loads the model a first time without weights to size the layers and context to a
    # GPU's memory; on the CPU there is nothing to fit, and it cost a cold ask 1.6 s here (5.6 s -> 4.0 s)
    params.fit_params = gpu_layers > 0
    # flash attention on the CPU made follow-ups slower: tools/bench_llama_params.py, 1.5B, 2 threads,
    # the dev dialogues replayed: follow-up p50 0.98-1.02 s without it vs 1.08-1.11 s with it (auto)
    params.flash_attn_type = -1 if gpu_layers > 0 else 0
    params.use_jinja = True  # the GGUF's own chat template
    params.warmup = False
    params.verbosity = -1
    params.log_json = False
    key = secrets.token_urlsafe(24)
    params.api_keys = [key]  # its HTTP server listens on loopback: only this process may use it
    params.port = 0
    params.endpoint_slots = prompts is not None
    if prompts is not None:
        prompts.mkdir(parents=True, exist_ok=True)
        params.slot_save_path = f"{prompts}{os.sep}"  # llama.cpp joins it to the file name as a string
    if tune is not None:
        tune(params)
    server = xllamacpp.Server(params)
    log.info("llama.cpp: %s loaded in %.1f s", Path(path).name, time.perf_counter() - started)
    return _Runtime(server, getattr(server, "listening_address", None), key, prompts)


def load_llama_cpp(cfg: LlmConfig, device: str = "cpu") -> LlamaCppChat:
    """The profile's GGUF on llama.cpp; all layers on the GPU when the device is CUDA."""
    path = gguf_path(cfg.model, "llm")
    threads = cfg.threads if cfg.threads > 0 else max(1, min(8, os.cpu_count() or 1))
    return LlamaCppChat(
        model_name=cfg.model,
        path=path,
        max_tokens=cfg.max_new_tokens,
        temperature=cfg.temperature,
        n_ctx=cfg.context,
        threads=threads,
        gpu_layers=999 if device.startswith("cuda") else 0,
    )
