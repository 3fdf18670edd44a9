"""The llama.cpp chat model: fast tests of how its replies become tool calls and how messages are sent;
slow ones on the bundled Qwen2.5 (streaming, stop sequences, JSON-schema output, the prompt cache)."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from videoagent.qa.llama_cpp import _tool_calls, convert_to_openai_messages

TOOLS = [{"type": "function", "function": {"name": n, "parameters": {}}} for n in ("get_ocr", "video_info")]


@pytest.mark.parametrize(
    "content",
    [
        '{"name": "get_ocr", "arguments": {"video": "abc", "start_s": 4}}',
        'I will call a tool.\n```json\n{"name": "get_ocr", "arguments": {"video": "abc", "start_s": 4}}\n```',
        '<tool_call>\n{"name": "get_ocr", "arguments": {"video": "abc", "start_s": 4}}\n</tool_call>',
        'Let me look: {"name": "get_ocr", "parameters": {"video": "abc", "start_s": 4}} and then answer.',
    ],
)
def test_a_call_written_as_json_in_the_text_is_a_tool_call(content):
    calls, invalid = _tool_calls({}, content, TOOLS)
    assert invalid == [] and [(c["name"], c["args"]) for c in calls] == [("get_ocr", {"video": "abc", "start_s": 4})]


def test_calls_the_server_parsed_win_and_bad_arguments_are_invalid_calls():
    parsed = {"tool_calls": [{"function": {"name": "video_info", "arguments": '{"video": "abc"}'}}]}
    calls, invalid = _tool_calls(parsed, '{"name": "get_ocr", "arguments": {}}', TOOLS)
    assert [c["name"] for c in calls] == ["video_info"] and invalid == []
    bad = {"tool_calls": [{"function": {"name": "video_info", "arguments": '{"video": '}}]}
    calls, invalid = _tool_calls(bad, "", TOOLS)
    assert calls == [] and invalid[0]["name"] == "video_info" and invalid[0]["error"]


def test_json_that_names_no_bound_tool_is_an_answer_not_a_call():
    assert _tool_calls({}, '{"name": "delete_index", "arguments": {}}', TOOLS) == ([], [])
    assert _tool_calls({}, '{"name": "get_ocr", "arguments": {}}', None) == ([], [])  # no tools bound


def test_messages_go_out_in_the_openai_shape():
    call = {"name": "get_ocr", "args": {"video": "abc"}, "id": "c1"}
    sent = convert_to_openai_messages(
        [
            SystemMessage("rules"),
            HumanMessage("q"),
            AIMessage("", tool_calls=[call]),
            ToolMessage('{"data": []}', tool_call_id="c1"),
        ]
    )
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool"]
    assert json.loads(sent[2]["tool_calls"][0]["function"]["arguments"]) == {"video": "abc"}
    assert sent[3]["tool_call_id"] == "c1"


# ---- the real model ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def qwen():
    from videoagent.config import LlmConfig
    from videoagent.qa.llama_cpp import load_llama_cpp

    return load_llama_cpp(LlmConfig(max_new_tokens=40))


@pytest.mark.slow
def test_streaming_stop_and_json_output(qwen):
    ask = [HumanMessage("Count from 1 to 10, separated by spaces.")]
    whole = qwen.invoke(ask).content
    pieces = [c.content for c in qwen.stream(ask)]
    assert len(pieces) > 3 and "".join(pieces) == whole  # the same greedy text, token by token
    assert qwen.invoke(ask, stop=[" 5"]).content.strip().endswith("4")
    schema = {
        "type": "object",
        "properties": {"fruit": {"type": "string", "enum": ["apple", "car"]}},
        "required": ["fruit"],
    }
    reply = qwen.invoke(
        [HumanMessage("Which of these is a fruit: apple or car?")],
        response_format={"type": "json_schema", "json_schema": {"schema": schema}},
    )
    assert json.loads(reply.content) == {"fruit": "apple"}


SNIPPET = """
import json, sys
from langchain_core.messages import HumanMessage, SystemMessage
from videoagent.config import LlmConfig
from videoagent.qa.llama_cpp import load_llama_cpp
qwen = load_llama_cpp(LlmConfig(max_new_tokens=8))
system = SystemMessage("Answer from these notes. " + " ".join(f"Note {i}: the box {i} is blue." for i in range(40)))
for q in sys.argv[1:]:
    print(json.dumps(qwen.invoke([system, HumanMessage(q)]).response_metadata))
"""


@pytest.mark.slow
def test_a_scene_list_read_in_one_process_is_restored_in_the_next(tmp_path):
    """The prompt cache: within a process the shared prefix is kept; a new process restores it from disk."""
    import os
    import subprocess
    import sys

    from videoagent.models.weights import cache_dir

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "weights").symlink_to(cache_dir() / "weights")  # the assembled GGUF, not the saved prompts
    env = {**os.environ, "VIDEOAGENT_CACHE": str(cache)}

    def run(*questions: str) -> list[dict]:
        out = subprocess.run([sys.executable, "-c", SNIPPET, *questions], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-2000:]
        return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]

    first, again = run("What colour is box 3?", "What colour is box 7?")
    assert first["cached_tokens"] < 50 and again["cached_tokens"] > 300  # the prefix was read once
    assert len(list((cache / "llm-prompts").rglob("*.bin"))) == 1
    (fresh,) = run("What colour is box 9?")
    assert fresh["cached_tokens"] > 300  # a new process, the same prefix: restored, not read again
