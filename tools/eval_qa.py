#!/usr/bin/env python3
"""Grounded-QA evaluation on the fixtures: answer accuracy and citation hit rate, per profile's LLM.

    python tools/eval_qa.py [--profiles default fast tiny] [--set dev|heldout|heldout7..heldout21|all]
                            [--index DIR] [--json]

Questions, expected answer keywords and expected spans are in tests/data/qa.yaml (dev: the set prompts,
cutoffs and rules were tuned on) and tests/data/qa_heldout.yaml, qa_heldout7.yaml to qa_heldout21.yaml (held
out: report them, never tune on them). A question is answered right when the answer contains one of its
keywords as whole words (answerable; a summary needs `min` of them) or says the video holds no evidence
(absent); a citation hits when a cited span overlaps the expected scene (questions without a span, counts and summaries,
have no citation score). Dialogues are asked turn by turn in one session; each turn counts like a
question, and the follow-up turns are also reported on their own. The fixtures are ingested once into
DIR (default: <fixtures>/_qa_index) with the default profile.

The grounded planner (profile `tiny`) is run with its score cutoff off; below the cutoff it would have
said "no evidence" instead, so the results at any cutoff follow exactly from that one answer and its
best evidence score. The report gives them at the profile's `llm.cutoff` (or --cutoff) and swept over
the observed scores: the evidence for choosing the cutoff (on the dev set only). The answering planner
has no cutoff: its rows are as answered.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from videoagent.config import load_pipeline, load_profile, use_offline_env  # noqa: E402

use_offline_env()

QA_SETS = {
    "dev": ROOT / "tests" / "data" / "qa.yaml",
    "heldout": ROOT / "tests" / "data" / "qa_heldout.yaml",  # round 6: seen
    "heldout7": ROOT / "tests" / "data" / "qa_heldout7.yaml",  # round 7: run once (session 19): seen
    "heldout8": ROOT / "tests" / "data" / "qa_heldout8.yaml",  # round 8: run once (session 20): seen
    "heldout9": ROOT / "tests" / "data" / "qa_heldout9.yaml",  # round 9: run once (session 21): seen
    "heldout10": ROOT / "tests" / "data" / "qa_heldout10.yaml",  # round 10: run once (session 22): seen
    "heldout11": ROOT / "tests" / "data" / "qa_heldout11.yaml",  # round 11: run once (session 23): seen
    "heldout12": ROOT / "tests" / "data" / "qa_heldout12.yaml",  # round 12: run once (session 23): seen
    "heldout13": ROOT / "tests" / "data" / "qa_heldout13.yaml",  # round 13: run once (session 24): seen
    "heldout14": ROOT / "tests" / "data" / "qa_heldout14.yaml",  # round 14: run once (session 27): seen
    "heldout15": ROOT / "tests" / "data" / "qa_heldout15.yaml",  # round 15: run once (session 27): seen
    "heldout16": ROOT / "tests" / "data" / "qa_heldout16.yaml",  # round 16: written in session 27, run in 28
    "heldout17": ROOT / "tests" / "data" / "qa_heldout17.yaml",  # round 17: written in session 28, run in 29
    "heldout18": ROOT / "tests" / "data" / "qa_heldout18.yaml",  # round 18: written in session 29, run in 30
    "heldout19": ROOT / "tests" / "data" / "qa_heldout19.yaml",  # round 19: run once (session 31): seen
    "heldout20": ROOT / "tests" / "data" / "qa_heldout20.yaml",  # round 20: run once (session 32): seen
    "heldout21": ROOT / "tests" / "data" / "qa_heldout21.yaml",  # round 21: written in session 32, not run yet
}
FIXTURES = Path(os.environ.get("VIDEOAGENT_FIXTURES") or ROOT / ".fixtures")


def load_questions(name: str = "dev") -> list[dict]:
    """Questions, then each dialogue's turns in order (`dialogue`: its number, `turn`: 0, 1, 2)."""
    names = list(QA_SETS) if name == "all" else [name]
    out = []
    for n in names:
        doc = yaml.safe_load(QA_SETS[n].read_text())
        out += [dict(q, set=n) for q in doc["questions"]]
        for d, dialogue in enumerate(doc.get("dialogues", [])):
            out += [dict(t, set=n, fixture=dialogue["fixture"], dialogue=f"{n}-{d}", turn=i)
                    for i, t in enumerate(dialogue["turns"])]  # fmt: skip
    return out


def build_index(index: Path, fixtures: list[str]) -> dict[str, str]:
    """Ingest the fixtures the questions need (skipped when already there); fixture name -> video_id."""
    from videoagent.index.store import Store
    from videoagent.ingest.pipeline import Ingestor

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
    return answer.found and _says(q, answer.answer)


def _says(q: dict, text: str) -> bool:
    """Whether `text` holds one of the expected keywords as whole words ("no" is not in "not"); a
    summary, at least `min` of them."""

    # A count's number stands alone: the "1" of a clock time "1:19.5" is not "one scene" (a digit's side only:
    # "1 scene:" says one scene).
    count = q["kind"] == "count"

    def edge(char: str) -> str:
        return r"[\w:.]" if count and char.isdigit() else r"\w"

    hits = sum(bool(re.search(rf"(?<!{edge(k[:1])}){re.escape(k)}(?!{edge(k[-1:])})", text, re.I)) for k in q["expect"])
    return hits >= q.get("min", 1)


def phrase(answer: str) -> str:
    """The answer without the evidence line it quotes in brackets: what the planner itself states."""
    return re.sub(r'\s*\([\d.]+-[\d.]+ s: ".*"\)\s*$', "", answer, flags=re.S)


def cites(q: dict, answer) -> bool | None:
    if "span" not in q:
        return None
    lo, hi = q["span"]
    return any(c.start_s < hi and c.end_s > lo for c in answer.citations)


def in_evidence(q: dict, scenes) -> bool | None:
    """Whether the scene lines of the expected span (what the model reads: speech, on-screen text, labels)
    hold one of the expected words ("yes" / "no" left out): a miss where they do not is what the index
    lacks, not what the answering gets wrong. None for an absent question, a count or a summary."""
    if q["kind"] == "absent" or "span" not in q:
        return None
    lo, hi = q["span"]
    text = " ".join(s.text() for s in scenes if s.start_s < hi and s.end_s > lo)
    words = [k for k in q["expect"] if k.lower() not in ("yes", "no")]
    return any(re.search(rf"(?<!\w){re.escape(k)}(?!\w)", text, re.I) for k in words)


def best_score(answer) -> float | None:
    return next((s["score"] for s in answer.steps if s.get("tool") == "score_evidence"), None)


def evaluate(profile_name: str, questions: list[dict], index: Path, ids: dict[str, str], cutoff: float | None) -> dict:
    from videoagent.index.store import Store
    from videoagent.qa.agent import open_agent
    from videoagent.qa.scenes import scene_list

    base = load_profile(profile_name)
    cutoff = base.llm.cutoff if cutoff is None else cutoff
    profile = base.model_copy(update={"llm": base.llm.model_copy(update={"cutoff": float("-inf")})})
    started = time.perf_counter()
    open_agent(index, profile, ids[questions[0]["fixture"]])  # load the models before timing questions
    load_s = time.perf_counter() - started
    store = Store(index)
    scenes = {vid: scene_list(store.segments(vid)) for vid in set(ids.values())}
    store.close()
    rows: list[dict] = []
    agent = None
    for q in questions:
        if q.get("turn", 0) == 0:  # a new session per question and per dialogue
            agent = open_agent(index, profile, ids[q["fixture"]])
        t0 = time.perf_counter()
        answer = agent.ask(q["question"])
        print(f"  {profile_name}: {len(rows) + 1}/{len(questions)} {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        rows.append(
            {
                "set": q["set"],
                "fixture": q["fixture"],
                "kind": q["kind"],
                "question": q["question"],
                "dialogue": q.get("dialogue"),
                "turn": q.get("turn"),
                "uncut_answer": answer.answer,
                "uncut_correct": is_correct(q, answer),
                "uncut_strict": is_correct(q, answer) and (q["kind"] == "absent" or _says(q, phrase(answer.answer))),
                "uncut_cited": cites(q, answer) if q["kind"] != "absent" else None,
                "in_evidence": in_evidence(q, scenes[ids[q["fixture"]]]),
                "score": best_score(answer),
                "seconds": round(time.perf_counter() - t0, 2),
                "tool": next((s["choice"] for s in answer.steps if s.get("tool") == "choose_tool"), None),
                "form": next((s["form"]["kind"] for s in answer.steps if s.get("tool") == "read_question"), None),
            }
        )
    rows = [_at_cutoff(r, cutoff) for r in rows]
    return {
        "profile": profile_name,
        "model": f"{profile.llm.backend}:{profile.llm.model}",
        "cutoff": cutoff,
        "load_s": round(load_s, 1),
        "median_s": sorted(r["seconds"] for r in rows)[len(rows) // 2],
        "sets": {
            name: _metrics([r for r in rows if r["set"] == name]) for name in dict.fromkeys(q["set"] for q in questions)
        },
        "questions": rows,
    }


NEW_KINDS = ("paraphrase", "order", "time", "count", "summary")


def _metrics(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["kind"] != "absent"]
    absent = [r for r in rows if r["kind"] == "absent"]
    follow_ups = [r for r in rows if r.get("turn")]
    return {
        "answerable": len(answerable),
        "answer_accuracy": _rate(r["correct"] for r in answerable),
        "strict_accuracy": _rate(r["strict"] for r in answerable),
        "citation_hit_rate": _rate(r["cited"] for r in answerable if r["cited"] is not None),
        "absent_correct": _rate(r["correct"] for r in absent),
        "absent_refused": f"{sum(r['correct'] for r in absent)}/{len(absent)}",
        "overall_accuracy": _rate(r["correct"] for r in rows),
        "whole_video_order_count_paraphrase": f"{sum(r['correct'] for r in rows if r['kind'] in NEW_KINDS)}/"
        f"{sum(r['kind'] in NEW_KINDS for r in rows)}",
        "follow_up_turns": f"{sum(r['correct'] for r in follow_ups)}/{len(follow_ups)}",
        # answerable questions with a span whose scene lines hold an expected word, and how many of those
        # were answered right (the rest of the misses are what the index does not hold)
        "answer_in_evidence": f"{sum(bool(r['in_evidence']) for r in answerable)}/"
        f"{sum(r['in_evidence'] is not None for r in answerable)}",
        "accuracy_where_in_evidence": _rate(r["correct"] for r in answerable if r["in_evidence"]),
        "cutoff_sweep": _sweep(rows),
    }


def _at_cutoff(row: dict, cutoff: float) -> dict:
    """The row as the planner with this cutoff would have answered it (a planner without scores: as is)."""
    if row["score"] is None and row["tool"] is None:
        return {**row, "answer": row["uncut_answer"], "correct": row["uncut_correct"],
                "strict": row["uncut_strict"], "cited": row["uncut_cited"]}  # fmt: skip
    refused = row["score"] is None or row["score"] < cutoff
    return {
        **row,
        "answer": "(below the cutoff) no evidence" if refused else row["uncut_answer"],
        "correct": row["kind"] == "absent" if refused else row["uncut_correct"],
        "strict": row["kind"] == "absent" if refused else row["uncut_strict"],
        "cited": (False if refused else row["uncut_cited"]) if row["kind"] != "absent" else None,
    }


def _rate(flags) -> float:
    flags = list(flags)
    return round(sum(bool(f) for f in flags) / len(flags), 3) if flags else 0.0


def _sweep(rows: list[dict]) -> list[dict]:
    """For cutoffs at the observed scores: answerable questions answered right vs absent ones refused."""
    out = []
    for c in sorted({r["score"] for r in rows if r["score"] is not None}):
        at = [_at_cutoff(r, c) for r in rows]
        out.append(
            {
                "cutoff": round(c, 3),
                "answerable_right": sum(r["correct"] for r in at if r["kind"] != "absent"),
                "absent_refused": sum(r["correct"] for r in at if r["kind"] == "absent"),
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", nargs="+", default=["default"], help="profiles whose LLMs to compare")
    parser.add_argument("--set", choices=[*QA_SETS, "all"], default="dev", help="which question set")
    parser.add_argument("--index", type=Path, default=FIXTURES / "_qa_index")
    parser.add_argument("--cutoff", type=float, default=None, help="override the profile's llm.cutoff")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)

    questions = load_questions(args.set)
    ids = build_index(args.index, sorted({q["fixture"] for q in questions}))
    reports = [evaluate(p, questions, args.index, ids, args.cutoff) for p in args.profiles]
    if args.json:
        print(json.dumps({"reports": reports}, indent=2))
        return 0
    for rep in reports:
        print(
            f"\n== {rep['profile']}: {rep['model']}  (cutoff {rep['cutoff']}, load {rep['load_s']} s, "
            f"median {rep['median_s']} s/question)"
        )
        for r in rep["questions"]:
            mark = "ok " if r["correct"] else "BAD"
            cite = {True: "cite-hit", False: "cite-MISS", None: ""}[r["cited"]]
            score = f"score={r['score']}"
            turn = f"T{r['turn'] + 1}" if r.get("turn") is not None else "  "
            how = f"tool={r['tool']}" if r["tool"] else f"form={r['form']}"
            held = {True: "in-evidence", False: "not-in-index", None: ""}[r.get("in_evidence")]
            print(
                f"  {mark} {r['set']:<7} {turn} {r['kind']:<10} {cite:<9} {held:<12} {score:<12} {how:<18} "
                f"{r['question']}"
            )
            print(f"        -> {r['answer']}")
        for name, m in rep["sets"].items():
            print(
                f"  [{name}] answer accuracy (answerable questions): {m['answer_accuracy']:.0%} "
                f"(strict, the stated phrase alone: {m['strict_accuracy']:.0%})   "
                f"citation hits: {m['citation_hit_rate']:.0%}   absent refused: {m['absent_refused']}   "
                f"paraphrase/order/time/count/summary right: {m['whole_video_order_count_paraphrase']}   "
                f"follow-up turns right: {m['follow_up_turns']}"
            )
            print(
                f"  [{name}] answer in the evidence (the expected scene's lines hold an expected word): "
                f"{m['answer_in_evidence']}; answered right there: {m['accuracy_where_in_evidence']:.0%}"
            )
            print(
                f"  [{name}] cutoff sweep (answerable right / absent refused): "
                + ", ".join(f"{s['cutoff']}: {s['answerable_right']}/{s['absent_refused']}" for s in m["cutoff_sweep"])
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
