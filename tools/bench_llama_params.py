#!/usr/bin/env python3
"""Benchmark llama.cpp settings on the requests that chat really sends, against the shipped setting.

    .venv/bin/python tools/bench_llama_params.py [--profile default] [--rounds 2] [--json]

First the dialogues of tests/data/qa.yaml are asked through the agent (the profile's LLM, the QA
fixture index), and every chat request it sends is recorded with the turn it belongs to. Then each
variant below replays those requests, in order, on a fresh llama.cpp server of its own (one process
per variant and round, rounds alternating the variants so drift on a busy machine hits all of them);
each video's scene list is processed untimed first, as the prompt cache would hold it. Printed per
variant: first-turn and follow-up p50 (seconds per request), the ratio of its follow-up p50 to the
shipped setting's in the same run, and how many replies equal the shipped setting's.

Variants: `shipped` (what llama_cpp._start sets: no flash attention on the CPU); `flash-auto`
(llama.cpp's default, flash attention where it thinks it helps); `ngram` (shipped + self-speculative
decoding from the n-grams already in the context, `--spec-type ngram-simple`); `draft-0.5b` (shipped +
speculative decoding with the fast profile's Qwen2.5-Coder-0.5B as the draft model).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from videoagent.config import use_offline_env  # noqa: E402

use_offline_env()

VARIANTS = ("shipped", "flash-auto", "ngram", "draft-0.5b")


def record(profile_name: str, out: Path) -> None:
    """Ask the dev dialogues through the agent; write every chat request with its turn to `out`."""
    from eval_qa import FIXTURES, build_index, load_questions

    from videoagent.config import load_profile
    from videoagent.models.weights import gguf_path
    from videoagent.qa import llama_cpp
    from videoagent.qa.agent import open_agent

    sent: list[dict] = []
    turn = {"now": 0}
    chat = llama_cpp._Runtime.chat

    def recording(self, request, callback=None):  # noqa: ANN001, ANN202
        sent.append({"turn": turn["now"], "request": request})
        return chat(self, request, callback)

    llama_cpp._Runtime.chat = recording
    questions = [q for q in load_questions() if q.get("turn") is not None]
    index = FIXTURES / "_qa_index"
    ids = build_index(index, sorted({q["fixture"] for q in questions}))
    profile = load_profile(profile_name)
    agent = None
    for q in questions:
        if q["turn"] == 0:
            agent = open_agent(index, profile, ids[q["fixture"]])
        turn["now"] = q["turn"]
        agent.ask(q["question"])
    doc = {"gguf": gguf_path(profile.llm.model, "llm"), "context": profile.llm.context, "requests": sent}
    out.write_text(json.dumps(doc))


def tune(variant: str):  # noqa: ANN201
    def apply(params) -> None:  # noqa: ANN001
        import xllamacpp

        if variant == "flash-auto":
            params.flash_attn_type = -1
        if variant == "ngram":
            params.speculative.types = [xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE]
        if variant == "draft-0.5b":  # the fast profile's 0.5B drafts, the 1.5B checks (the same tokenizer)
            from videoagent.config import load_profile
            from videoagent.models.weights import gguf_path

            params.speculative.types = [xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE]
            params.speculative.draft.mparams.path = gguf_path(load_profile("fast").llm.model, "llm")
            params.speculative.draft.cpuparams.n_threads = params.cpuparams.n_threads
            params.speculative.draft.cpuparams_batch.n_threads = params.cpuparams.n_threads

    return apply


def replay(variant: str, recorded: Path) -> dict:
    """Run in its own process: replay the recorded requests on a fresh server with `variant`'s settings."""
    from videoagent.qa.llama_cpp import _start

    doc = json.loads(recorded.read_text())
    runtime = _start(doc["gguf"], doc["context"], 2, 0, None, tune(variant))
    seconds: dict[int, list[float]] = {0: [], 1: []}
    replies, system = [], None
    for sent in doc["requests"]:
        request = sent["request"]
        if request["messages"][0]["content"] != system:  # the scene list, processed once, untimed
            system = request["messages"][0]["content"]
            warm = {"messages": [request["messages"][0], {"role": "user", "content": "hi"}], "max_tokens": 1}
            runtime.server.handle_chat_completions(warm)
        started = time.perf_counter()
        reply = runtime.server.handle_chat_completions(request)
        seconds[min(sent["turn"], 1)].append(time.perf_counter() - started)
        replies.append(reply["choices"][0]["message"].get("content") or "")
    return {"variant": variant, "first": seconds[0], "follow": seconds[1], "replies": replies}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--replay", nargs=2, help=argparse.SUPPRESS)  # internal: VARIANT RECORDED
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.replay:
        print(json.dumps(replay(args.replay[0], Path(args.replay[1]))))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        recorded = Path(tmp) / "requests.json"
        record(args.profile, recorded)
        runs: dict[str, list[dict]] = {v: [] for v in args.variants}
        for _ in range(args.rounds):
            for variant in args.variants:
                cmd = [sys.executable, __file__, "--replay", variant, str(recorded)]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout
                runs[variant].append(json.loads(out.strip().splitlines()[-1]))
    shipped = runs.get("shipped")
    rows = []
    for variant, reps in runs.items():
        first = [s for r in reps for s in r["first"]]
        follow = [s for r in reps for s in r["follow"]]
        row = {"variant": variant, "requests": len(reps[0]["replies"]), "first_p50_s": statistics.median(first)}
        row["follow_up_p50_s"] = statistics.median(follow)
        if shipped:
            base = statistics.median([s for r in shipped for s in r["follow"]])
            row["follow_up_ratio"] = row["follow_up_p50_s"] / base
            same = sum(a == b for a, b in zip(reps[0]["replies"], shipped[0]["replies"], strict=True))
            row["same_replies"] = f"{same}/{row['requests']}"
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{args.profile}: {rows[0]['requests']} recorded requests, {args.rounds} rounds per variant")
    for row in rows:
        ratio = f", {row['follow_up_ratio']:.2f}x shipped" if "follow_up_ratio" in row else ""
        same = f", replies equal to shipped {row['same_replies']}" if "same_replies" in row else ""
        print(
            f"  {row['variant']:>10}: first turn p50 {row['first_p50_s']:.3f} s, "
            f"follow-up p50 {row['follow_up_p50_s']:.3f} s{ratio}{same}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
