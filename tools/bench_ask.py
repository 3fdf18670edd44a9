#!/usr/bin/env python3
"""Benchmark `ask` per LLM backend: load times and warm latency, split into retrieval and generation.

    .venv/bin/python tools/bench_ask.py [--models M ...] [--repeat N] [--cold] [--index DIR] [--json]

For each model (default: both bundled ones):
- load: cold (GGUF -> safetensors conversion into an empty cache; only with --cold, it takes a
  minute) and warm (from the converted cache), in a fresh process each, so nothing is already in memory;
- warm `ask` latency over the QA questions of tests/data/qa.yaml, --repeat rounds, p50/p90, split into
  retrieval (fused search: text embedding + vector query) and generation (everything the LLM does:
  tool scoring, evidence scoring, the short answer);
- baselines measured in the same run: one bare fused search, and one bare greedy generation of the
  profile's max_new_tokens from a one-line prompt. Ratios: ask p50 / bare generation.
Target: p50 < 5 s with the default model on CPU. The load average is printed: on a 2-core machine
anything else running skews every number.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from videoagent.config import load_profile, use_offline_env  # noqa: E402

use_offline_env()
from eval_qa import FIXTURES, build_index, load_questions  # noqa: E402

LOAD_SNIPPET = (
    "import time,sys; t=time.perf_counter(); from videoagent.config import LlmConfig; "
    "from videoagent.qa.llm import load_local; load_local(LlmConfig(model=sys.argv[1])); "
    "print(time.perf_counter()-t)"
)


def load_seconds(model: str, cache: str | None = None) -> float:
    """Seconds to import and load `model` in a fresh process (cache: an XDG_CACHE_HOME to use)."""
    env = {**os.environ, **({"XDG_CACHE_HOME": cache} if cache else {})}
    out = subprocess.run(
        [sys.executable, "-c", LOAD_SNIPPET, model], capture_output=True, text=True, env=env, check=True, cwd=ROOT
    )
    return float(out.stdout.strip().splitlines()[-1])


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def bench_model(model: str, index: Path, ids: dict[str, str], questions: list[dict], repeat: int, cold: bool) -> dict:
    from videoagent.index.retrieval import Retriever
    from videoagent.index.store import Store
    from videoagent.models.registry import Models
    from videoagent.qa.agent import open_agent

    report: dict = {"model": model}
    if cold:
        with tempfile.TemporaryDirectory() as cache:
            report["cold_load_s"] = round(load_seconds(model, cache), 2)
    report["warm_load_s"] = round(load_seconds(model), 2)

    base = load_profile("default")
    profile = base.model_copy(update={"llm": base.llm.model_copy(update={"model": model})})
    open_agent(index, profile, ids[questions[0]["fixture"]])  # models loaded before any timing
    llm = Models.shared(profile).llm()
    retriever = Retriever(Store(index), Models.shared(profile))

    t0 = time.perf_counter()
    retriever.search_text(questions[0]["question"], top_k=24, video_id=ids[questions[0]["fixture"]])
    report["baseline_search_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    llm.complete("The video shows", max_new_tokens=profile.llm.max_new_tokens)
    report["baseline_generate_s"] = round(time.perf_counter() - t0, 3)

    totals, retrieval = [], []
    for _ in range(repeat):
        for q in questions:
            agent = open_agent(index, profile, ids[q["fixture"]])
            spent: list[float] = []
            search = agent.view.search_segments

            def timed(*args, search=search, spent=spent, **kwargs):
                t = time.perf_counter()
                try:
                    return search(*args, **kwargs)
                finally:
                    spent.append(time.perf_counter() - t)

            agent.view.search_segments = timed
            t0 = time.perf_counter()
            agent.ask(q["question"])
            totals.append(time.perf_counter() - t0)
            retrieval.append(sum(spent))
    generation = [t - r for t, r in zip(totals, retrieval, strict=True)]
    report.update(
        {
            "questions": len(totals),
            "ask_p50_s": round(pct(totals, 0.5), 3),
            "ask_p90_s": round(pct(totals, 0.9), 3),
            "retrieval_p50_s": round(pct(retrieval, 0.5), 3),
            "retrieval_p90_s": round(pct(retrieval, 0.9), 3),
            "generation_p50_s": round(pct(generation, 0.5), 3),
            "generation_p90_s": round(pct(generation, 0.9), 3),
            "mean_s": round(statistics.mean(totals), 3),
        }
    )
    report["ask_p50_over_bare_generation"] = round(report["ask_p50_s"] / report["baseline_generate_s"], 2)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["bundled:smollm2-135m", "bundled:gemma3-270m"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cold", action="store_true", help="also time the first load (GGUF conversion)")
    parser.add_argument("--index", type=Path, default=FIXTURES / "_qa_index")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    questions = load_questions()
    ids = build_index(args.index, sorted({q["fixture"] for q in questions}))
    load_before = os.getloadavg()
    reports = [bench_model(m, args.index, ids, questions, args.repeat, args.cold) for m in args.models]
    doc = {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": os.getloadavg(), "reports": reports}
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"{os.cpu_count()} CPUs; load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")
    for r in reports:
        cold = f"cold {r['cold_load_s']} s, " if "cold_load_s" in r else ""
        print(f"\n== {r['model']}: load {cold}warm {r['warm_load_s']} s")
        print(
            f"  ask ({r['questions']} warm questions): p50 {r['ask_p50_s']} s, p90 {r['ask_p90_s']} s "
            f"(target p50 < 5 s)"
        )
        print(
            f"    retrieval  p50 {r['retrieval_p50_s']} s, p90 {r['retrieval_p90_s']} s "
            f"(bare fused search {r['baseline_search_s']} s)"
        )
        print(
            f"    generation p50 {r['generation_p50_s']} s, p90 {r['generation_p90_s']} s "
            f"(bare {r['baseline_generate_s']} s generation; ask p50 = {r['ask_p50_over_bare_generation']}x it)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
