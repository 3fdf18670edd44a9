#!/usr/bin/env python3
"""Tool-choice accuracy of a profile's LLM under the tool-calling planner (`planner: tools`).

    .venv/bin/python tools/eval_tools.py [--profiles default fast] [--json]

Each request of tests/data/tool_requests.yaml is asked about the narrated fixture with the read-only
tools; the first tool the model calls is compared with the expected one. Also reported: requests with no
call at all, and malformed calls (the agent sends them back to the model to retry).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
from videoagent.config import load_profile, use_offline_env  # noqa: E402

use_offline_env()
from eval_qa import FIXTURES, build_index  # noqa: E402

REQUESTS = ROOT / "tests" / "data" / "tool_requests.yaml"


def evaluate(profile_name: str, index: Path, video_id: str, requests: list[dict]) -> dict:
    from videoagent.qa.agent import open_agent

    base = load_profile(profile_name)
    profile = base.model_copy(update={"llm": base.llm.model_copy(update={"planner": "tools"})})
    rows = []
    for r in requests:
        t0 = time.perf_counter()
        answer = open_agent(index, profile, video_id).ask(r["request"])
        calls = [s for s in answer.steps if "args" in s and "error" not in s]
        malformed = sum(1 for s in answer.steps if s.get("error") == "malformed call")
        first = calls[0]["tool"] if calls else None
        rows.append({"request": r["request"], "expected": r["tool"], "first": first, "right": first == r["tool"],
                     "malformed": malformed, "seconds": round(time.perf_counter() - t0, 2)})  # fmt: skip
        print(f"  {profile_name}: {len(rows)}/{len(requests)} {first}", file=sys.stderr)
    return {
        "profile": profile_name,
        "model": f"{profile.llm.backend}:{profile.llm.model}",
        "right": sum(r["right"] for r in rows),
        "requests": len(rows),
        "no_call": sum(r["first"] is None for r in rows),
        "malformed_calls": sum(r["malformed"] for r in rows),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", nargs="+", default=["default"])
    parser.add_argument("--index", type=Path, default=FIXTURES / "_qa_index")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    requests = yaml.safe_load(REQUESTS.read_text())["requests"]
    video_id = build_index(args.index, ["narrated"])["narrated"]
    reports = [evaluate(p, args.index, video_id, requests) for p in args.profiles]
    if args.json:
        print(json.dumps({"reports": reports}, indent=2))
        return 0
    for rep in reports:
        print(f"\n== {rep['profile']}: {rep['model']}")
        for r in rep["rows"]:
            print(f"  {'ok ' if r['right'] else 'BAD'} want {r['expected']:<16} got {r['first']!s:<16} {r['request']}")
        print(
            f"  tool choice: {rep['right']}/{rep['requests']} right; no call {rep['no_call']}; "
            f"malformed calls {rep['malformed_calls']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
