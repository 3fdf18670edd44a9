"""`videoagent ask` and `videoagent chat`: the --json contract, bad input, piped multi-turn chat."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from videoagent.cli import app

pytestmark = pytest.mark.slow  # the session's real ingest and the bundled LLM


def invoke(*args, input: str | None = None):
    result = CliRunner().invoke(app, list(map(str, args)), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_ask_json_contract(ingested):
    store, results = ingested
    vid = results["narrated"].video_id
    code, stdout, _ = invoke("ask", vid[:8], "What is the cat resting on?", "--index", store.root, "--json")
    assert code == 0
    doc = json.loads(stdout)
    assert set(doc) == {"answer", "citations", "steps"}
    assert "blanket" in doc["answer"].lower()
    assert doc["citations"] == [{"video_id": vid, "start_s": 4.0, "end_s": 8.0}]
    assert all("tool" in step for step in doc["steps"])


def test_ask_unknown_video_is_bad_input(ingested):
    store, _ = ingested
    code, stdout, stderr = invoke("ask", "ffffffffffffffff", "anything?", "--index", store.root, "--json")
    assert code == 2 and stdout == "" and "ffffffffffffffff" in stderr


def test_chat_keeps_history_and_quits(ingested):
    store, results = ingested
    vid = results["narrated"].video_id
    turns = "What sits on the red saucer?\nand what happens after that?\n/quit\nWhat is never asked?\n"
    code, stdout, _ = invoke("chat", vid, "--index", store.root, "--json", input=turns)
    assert code == 0
    docs = [json.loads(line) for line in stdout.splitlines()]
    assert [d["question"] for d in docs] == ["What sits on the red saucer?", "and what happens after that?"]
    assert docs[0]["citations"][0]["start_s"] == 8.0
    assert docs[1]["citations"] == [{"video_id": vid, "start_s": 12.0, "end_s": 16.0}]
    assert "rocket" in docs[1]["answer"].lower()
