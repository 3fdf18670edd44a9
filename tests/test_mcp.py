"""`videoagent mcp`: the read-only tools, driven by the MCP SDK's own client — in-process on an empty index
(fast), and over stdio against `videoagent mcp` on the session's real index (slow)."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest
from mcp import Client, StdioServerParameters

TOOLS = {"list_videos", "show", "search", "ask", "tracklets", "tags"}


def payload(result) -> dict:
    """A tool result's JSON document (structured content when the SDK gives it, else its text)."""
    if getattr(result, "structured_content", None):
        return result.structured_content
    return json.loads(result.content[0].text)


def test_tools_are_listed_read_only_and_errors_come_back_as_tool_errors(tmp_path):
    from videoagent.index.store import Store
    from videoagent.library import Library
    from videoagent.mcp_server import build

    Store(tmp_path).close()

    async def run():
        async with Client(build(Library(tmp_path))) as client:
            tools = (await client.list_tools()).tools
            assert {t.name for t in tools} == TOOLS
            assert all(t.annotations.read_only_hint and not t.annotations.destructive_hint for t in tools)
            assert payload(await client.call_tool("list_videos", {})) == {"videos": []}
            missing = await client.call_tool("show", {"video_id": "ffffffffff"})
            assert missing.is_error and "no such video" in missing.content[0].text

    asyncio.run(run())


@pytest.mark.slow
def test_stdio_server_searches_shows_and_answers_with_citations(ingested):
    store, results = ingested
    vid = results["narrated"].video_id
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "videoagent", "mcp", "--index", str(store.root)], env=env
    )

    async def run():
        async with Client(params, read_timeout_seconds=300) as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS
            listed = payload(await client.call_tool("list_videos", {}))
            assert {v["video_id"] for v in listed["videos"]} == {r.video_id for r in results.values()}
            hits = payload(await client.call_tool("search", {"query": "a tabby cat on a blanket", "top": 3}))
            best = hits["results"][0]
            assert best["video_id"] == vid and best["start_s"] == pytest.approx(4.0, abs=0.6)
            shown = payload(await client.call_tool("show", {"video_id": vid[:8]}))
            assert shown["segments"][1]["ocr"] == ["CAT CAFE OPEN"]
            question = {"video_id": vid, "question": "What does the sign in the cat scene say?", "session": "m1"}
            answer = payload(await client.call_tool("ask", question))
            assert "cat cafe open" in answer["answer"].lower()
            assert any(c["start_s"] < 8 and c["end_s"] > 4 for c in answer["citations"])
            people = payload(await client.call_tool("tracklets", {"video_id": vid}))
            assert people["tracklets"] and all(t["id"].startswith(vid + ":") for t in people["tracklets"])

    asyncio.run(run())
