#!/usr/bin/env python3
"""Benchmark `ask` per profile's LLM: cold start in a new process, warm latency, follow-ups, peak RSS.

    .venv/bin/python tools/bench_ask.py [--profiles default fast tiny] [--limit N] [--index DIR] [--json]

For each profile, in one run, on the same questions (tests/data/qa.yaml: its questions, then its
dialogues):
- cold: `videoagent ask VIDEO QUESTION --json` in a new process, wall time and that process's peak RSS
  (os.wait4), three times; the first question of the set;
- warm: in one process per profile (so each RSS is its own), models loaded first; every question in a
  new session (the video's scene list may already be in the LLM's prompt cache from the question
  before: that is the warm case), p50/p90; follow-ups: turns 2 and 3 of the dialogues, p50/p90;
- that process's peak RSS.
Targets (issue #12): warm p50 <= 2.5 s, warm follow-up p50 <= 1.0 s, cold ask <= 6 s. The load average
is printed: on a 2-core machine anything else running skews every number.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from videoagent.config import use_offline_env  # noqa: E402

use_offline_env()
from eval_qa import FIXTURES, build_index, load_questions  # noqa: E402


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, round(q * (len(values) - 1)))], 3)


def cold_ask(profile: str, index: Path, video_id: str, question: str) -> dict:
    """One `videoagent ask` in a fresh process: seconds and its peak RSS in MB."""
    cli = str(Path(sys.executable).with_name("videoagent"))
    cmd = [cli, "ask", video_id, question, "--index", str(index), "--profile", profile, "--json"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"error: {' '.join(cmd)} exited {os.waitstatus_to_exitcode(status)}")
    return {"seconds": round(seconds, 2), "rss_mb": round(usage.ru_maxrss / 1024), "answer": json.loads(out)["answer"]}


def warm(profile_name: str, index: Path, ids: dict[str, str], questions: list[dict]) -> dict:
    """Run in its own process (main --one): the warm numbers and this process's peak RSS."""
    from videoagent.config import load_profile
    from videoagent.qa.agent import open_agent

    profile = load_profile(profile_name)
    t0 = time.perf_counter()
    open_agent(index, profile, ids[questions[0]["fixture"]])
    load_s = time.perf_counter() - t0
    single, follow = [], []
    agent = None
    for q in questions:
        if q.get("turn", 0) == 0:
            agent = open_agent(index, profile, ids[q["fixture"]])
        t0 = time.perf_counter()
        agent.ask(q["question"])
        (follow if q.get("turn") else single).append(time.perf_counter() - t0)
    return {
        "profile": profile_name,
        "model": f"{profile.llm.backend}:{profile.llm.model}",
        "load_s": round(load_s, 2),
        "questions": len(single),
        "warm_p50_s": pct(single, 0.5),
        "warm_p90_s": pct(single, 0.9),
        "warm_mean_s": round(statistics.mean(single), 3),
        "follow_ups": len(follow),
        "follow_up_p50_s": pct(follow, 0.5),
        "follow_up_p90_s": pct(follow, 0.9),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", nargs="+", default=["default", "fast", "tiny"])
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions (dialogues: all)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--index", type=Path, default=FIXTURES / "_qa_index")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: the warm run of one profile
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    questions = load_questions()
    if args.limit:
        singles = [q for q in questions if q.get("turn") is None][: args.limit]
        questions = singles + [q for q in questions if q.get("turn") is not None]
    ids = build_index(args.index, sorted({q["fixture"] for q in questions}))
    if args.one:
        print(json.dumps(warm(args.one, args.index, ids, questions)))
        return 0

    load_before = os.getloadavg()
    reports = []
    first = questions[0]
    for name in args.profiles:
        cmd = [sys.executable, __file__, "--one", name, "--index", str(args.index)]
        cmd += ["--limit", str(args.limit)] if args.limit else []
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout
        report = json.loads(out.strip().splitlines()[-1])
        colds = [cold_ask(name, args.index, ids[first["fixture"]], first["question"]) for _ in range(args.cold_runs)]
        report["cold_ask_s"] = [c["seconds"] for c in colds]
        report["cold_ask_p50_s"] = pct(report["cold_ask_s"], 0.5)
        report["cold_ask_rss_mb"] = max(c["rss_mb"] for c in colds)
        report["cold_question"] = first["question"]
        reports.append(report)
        print(f"  {name}: done", file=sys.stderr)
    doc = {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": os.getloadavg(), "reports": reports}
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"{os.cpu_count()} CPUs; load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")
    for r in reports:
        print(f"\n== {r['profile']}: {r['model']} (load {r['load_s']} s in process)")
        print(
            f"  warm ask ({r['questions']} questions): p50 {r['warm_p50_s']} s, p90 {r['warm_p90_s']} s "
            "(target p50 <= 2.5 s)"
        )
        print(
            f"  warm follow-up ({r['follow_ups']} turns): p50 {r['follow_up_p50_s']} s, p90 {r['follow_up_p90_s']} s "
            "(target p50 <= 1.0 s)"
        )
        print(
            f"  cold `videoagent ask` in a new process: {r['cold_ask_s']} s (p50 {r['cold_ask_p50_s']}; "
            f"target <= 6 s), peak RSS {r['cold_ask_rss_mb']} MB"
        )
        print(f"  peak RSS of the warm process: {r['peak_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
