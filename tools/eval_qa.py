#!/usr/bin/env python3
"""Grounded-QA evaluation on the fixtures: answer accuracy and citation hit rate, per LLM backend.

    python tools/eval_qa.py [--models bundled:smollm2-135m bundled:gemma3-270m] [--index DIR] [--json]

Questions, expected answer keywords and expected spans are in tests/data/qa.yaml. A question is
answered right when the answer contains one of its keywords (answerable) or says the video holds no
evidence (absent); a citation hits when a cited span overlaps the expected scene. The fixtures are
ingested once into DIR (default: <fixtures>/_qa_index) with the default profile.

Each question is also answered with the cutoff off, so the report shows, for every cutoff, how the
answerable and the absent questions would fare: the evidence for choosing the profile's `llm.cutoff`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from videoagent.config import load_pipeline, load_profile, use_offline_env  # noqa: E402

use_offline_env()

QA_FILE = ROOT / "tests" / "data" / "qa.yaml"
FIXTURES = Path(os.environ.get("VIDEOAGENT_FIXTURES") or ROOT / ".fixtures")


def load_questions(path: Path = QA_FILE) -> list[dict]:
    return yaml.safe_load(path.read_text())["questions"]


def build_index(index: Path, fixtures: list[str]) -> dict[str, str]:
    """Ingest the fixtures the questions need (skipped when already there); fixture name -> video_id."""
    from videoagent.orchestrator import Ingestor
    from videoagent.store import Store

    manifest = json.loads((FIXTURES / "manifest.json").read_text())["fixtures"]
    ingestor = Ingestor(Store(index), load_profile("default"), load_pipeline())
    ids = {}
    for name in fixtures:
        result = ingestor.ingest_one(FIXTURES / manifest[name]["path"])
        if result.status not in ("done", "skipped"):
            raise SystemExit(f"error: ingest of {name} failed: {result.error}")
        ids[name] = result.video_id
    return ids


def is_correct(q: dict, answer) -> bool:
    if q["kind"] == "absent":
        return not answer.found
    return answer.found and any(k.lower() in answer.answer.lower() for k in q["expect"])


def cites(q: dict, answer) -> bool:
    lo, hi = q["span"]
    return any(c.start_s < hi and c.end_s > lo for c in answer.citations)


def best_score(answer) -> float | None:
    return next((s["score"] for s in answer.steps if s.get("tool") == "score_evidence"), None)


def evaluate(model: str, questions: list[dict], index: Path, ids: dict[str, str], cutoff: float | None) -> dict:
    from videoagent.agent import open_agent

    base = load_profile("default")
    llm = base.llm.model_copy(update={"model": model, **({"cutoff": cutoff} if cutoff is not None else {})})
    profile = base.model_copy(update={"llm": llm})
    started = time.perf_counter()
    open_agent(index, profile, ids[questions[0]["fixture"]])  # load the models before timing questions
    load_s = time.perf_counter() - started
    rows = []
    for q in questions:
        agent = open_agent(index, profile, ids[q["fixture"]])
        t0 = time.perf_counter()
        answer = agent.ask(q["question"])
        print(f"  {model}: {len(rows) + 1}/{len(questions)} {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        rows.append(
            {
                "fixture": q["fixture"],
                "kind": q["kind"],
                "question": q["question"],
                "answer": answer.answer,
                "correct": is_correct(q, answer),
                "cited": cites(q, answer) if q["kind"] != "absent" else None,
                "score": best_score(answer),
                "seconds": round(time.perf_counter() - t0, 2),
                "tool": next((s["choice"] for s in answer.steps if s.get("tool") == "choose_tool"), None),
            }
        )
    answerable = [r for r in rows if r["kind"] != "absent"]
    absent = [r for r in rows if r["kind"] == "absent"]
    return {
        "model": model,
        "cutoff": profile.llm.cutoff,
        "load_s": round(load_s, 1),
        "answer_accuracy": _rate(r["correct"] for r in answerable),
        "citation_hit_rate": _rate(r["cited"] for r in answerable),
        "absent_correct": _rate(r["correct"] for r in absent),
        "overall_accuracy": _rate(r["correct"] for r in rows),
        "median_s": sorted(r["seconds"] for r in rows)[len(rows) // 2],
        "cutoff_sweep": _sweep(rows),
        "questions": rows,
    }


def _rate(flags) -> float:
    flags = list(flags)
    return round(sum(bool(f) for f in flags) / len(flags), 3) if flags else 0.0


def _sweep(rows: list[dict]) -> list[dict]:
    """For cutoffs between the observed scores: answerable questions kept vs absent ones refused."""
    scored = [r for r in rows if r["score"] is not None]
    cuts = sorted({round(r["score"], 2) for r in scored})
    out = []
    for c in cuts:
        kept = [r for r in scored if r["kind"] != "absent" and r["score"] >= c]
        refused = [r for r in scored if r["kind"] == "absent" and r["score"] < c]
        out.append({"cutoff": c, "answerable_kept": len(kept), "absent_refused": len(refused)})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["bundled:smollm2-135m", "bundled:gemma3-270m"])
    parser.add_argument("--index", type=Path, default=FIXTURES / "_qa_index")
    parser.add_argument("--cutoff", type=float, default=None, help="override the profile's llm.cutoff")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)

    questions = load_questions()
    ids = build_index(args.index, sorted({q["fixture"] for q in questions}))
    reports = [evaluate(m, questions, args.index, ids, args.cutoff) for m in args.models]
    if args.json:
        print(json.dumps({"reports": reports}, indent=2))
        return 0
    for rep in reports:
        print(
            f"\n== {rep['model']}  (cutoff {rep['cutoff']}, load {rep['load_s']} s, "
            f"median {rep['median_s']} s/question)"
        )
        for r in rep["questions"]:
            mark = "ok " if r["correct"] else "BAD"
            cite = {True: "cite-hit", False: "cite-MISS", None: ""}[r["cited"]]
            print(f"  {mark} {r['kind']:<6} {cite:<9} score={r['score']} tool={r['tool']:<14} {r['question']}")
            print(f"        -> {r['answer']}")
        print(
            f"  answer accuracy (speech/on-screen): {rep['answer_accuracy']:.0%}   "
            f"citation hits: {rep['citation_hit_rate']:.0%}   absent refused: {rep['absent_correct']:.0%}"
        )
        print(
            "  cutoff sweep (answerable kept / absent refused): "
            + ", ".join(f"{s['cutoff']}: {s['answerable_kept']}/{s['absent_refused']}" for s in rep["cutoff_sweep"])
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
