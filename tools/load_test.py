#!/usr/bin/env python3
"""Load test: concurrent search and ask clients against `videoagent serve` while an ingest job runs.

    python tools/load_test.py [--index DIR] [--clients 8] [--seconds 60] [--ingest launch speech injection]

Starts `videoagent serve` on a free loopback port (never another host) over DIR (default: a fresh
folder under /tmp), ingests the `narrated` fixture first if the index has no video to ask about, then
queues one ingest job of the `--ingest` fixtures through the API (a folder job under the fixtures as the
media root) and runs `--clients` threads, each alternating a text search and a question in its own chat
session, until `--seconds` pass or each has made `--requests`. Reports p50/p99/max latency per
endpoint, the error count (target 0), the ingest job's time, and checks afterwards that every ingested
video's rows are in the index exactly once: one video-level vector per done video, one segment vector
per segment, one tracklet vector per tracklet, and no vector of a video that is not done. Exit 1 when
there were errors or a check failed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURES = Path(os.environ.get("VIDEOAGENT_FIXTURES") or ROOT / ".fixtures")
MAX_CLIENTS, MAX_SECONDS = 32, 600
QUERIES = ["a cat on a blanket", "red motorcycle in a garage", "coffee cup", "rocket launch", "a man talking",
           "astronaut and flag", "text on screen", "people walking"]  # fmt: skip
QUESTIONS = ["What does the sign in the cat scene say?", "What colour is the motorcycle?", "What is in the last scene?",
             "How many scenes are there?", "What happens after the cat scene?", "Who is feeding the cat?"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fixture(name: str) -> Path:
    manifest = json.loads((FIXTURES / "manifest.json").read_text())["fixtures"]
    if name not in manifest:
        raise SystemExit(f"error: fixture {name} is not in {FIXTURES}/manifest.json (run `make fixtures`)")
    return FIXTURES / manifest[name]["path"]


def start_server(index: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "videoagent", "serve", "--index", str(index), "--host", "127.0.0.1",
           "--port", str(port), "--media-root", str(FIXTURES)]  # fmt: skip
    log = open(index / "load_test_server.log", "w")  # noqa: SIM115 - open for the server's life
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: the server exited: {(index / 'load_test_server.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/auth", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("error: the server did not start within 120 s")


def wait_job(client: httpx.Client, job_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise SystemExit(f"error: job {job_id} did not finish within {timeout:.0f} s")


def run_clients(base: str, video_ids: list[str], clients: int, seconds: float, requests: int, ingest_done) -> dict:
    times: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client_loop(k: int) -> None:
        queries, questions = itertools.cycle(QUERIES[k % len(QUERIES) :]), itertools.cycle(QUESTIONS[k % 3 :])
        with httpx.Client(base_url=base, timeout=300) as http:
            for i in range(requests):
                if time.monotonic() > stop_at:
                    return
                if i % 2 == 0:
                    name, call = "GET /search", lambda: http.get("/search", params={"q": next(queries), "top": 5})
                else:
                    body = {
                        "video_id": video_ids[k % len(video_ids)],
                        "question": next(questions),
                        "session": f"load-{k}",
                    }
                    name, call = "POST /ask", lambda body=body: http.post("/ask", json=body)
                t0 = time.perf_counter()
                try:
                    response = call()
                    ok = response.status_code == 200
                    why = f"{name}: {response.status_code} {response.text[:200]}"
                except httpx.HTTPError as exc:
                    ok, why = False, f"{name}: {type(exc).__name__}: {exc}"
                with lock:
                    times[name].append(time.perf_counter() - t0)
                    if not ok:
                        errors.append(why)

    threads = [threading.Thread(target=client_loop, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"times": times, "errors": errors, "during_ingest": not ingest_done()}


def check_rows(index: Path, ingested: list[str]) -> list[str]:
    """Problems found: each ingested file one done video; each done video's vectors exactly once."""
    from videoagent.index.store import Store
    from videoagent.media.probe import file_video_id

    store = Store(index)
    done = {v["video_id"]: v for v in store.videos("done")}
    problems = [f"{p}: not a done video" for p in ingested if file_video_id(p) not in done]
    segments = {vid: len(store.segments(vid)) for vid in done}
    tracklets = defaultdict(int)
    for rec in store.tracklets():
        tracklets[rec["id"].split(":")[0]] += 1
    for name in store.collections():
        got = store.collection(name).get(include=["metadatas"])
        per_video = defaultdict(list)
        for row_id, meta in zip(got["ids"], got["metadatas"], strict=True):
            per_video[meta["video_id"]].append(row_id)
        for vid, ids in per_video.items():
            if vid not in done:
                problems.append(f"{name}: {len(ids)} rows of {vid}, which is not a done video")
            elif name.startswith("video_") and len(ids) != 1:
                problems.append(f"{name}: {len(ids)} rows for {vid} (expected 1)")
            elif name.startswith("visual_") and sorted(ids) != sorted(f"{vid}:{i}" for i in range(segments[vid])):
                problems.append(f"{name}: {len(ids)} rows for {vid}'s {segments[vid]} segments")
            elif name.startswith("tracklet_") and len(ids) != tracklets[vid]:
                problems.append(f"{name}: {len(ids)} rows for {vid}'s {tracklets[vid]} tracklets")
            elif name.startswith("text_") and len(ids) != len(set(ids)):
                problems.append(f"{name}: repeated row ids for {vid}")
    store.close()
    return problems


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=None, help="index folder (default: a fresh one under /tmp)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--requests", type=int, default=200, help="most requests per client")
    parser.add_argument("--ingest", nargs="+", default=["launch", "speech", "injection"], help="fixtures to ingest")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS or not 1 <= args.seconds <= MAX_SECONDS:
        raise SystemExit(f"error: --clients 1..{MAX_CLIENTS} and --seconds 1..{MAX_SECONDS}")
    index = args.index or Path(tempfile.mkdtemp(prefix="va-load-"))
    if not (index / "catalog.sqlite").exists():  # a video to ask about before the load starts
        subprocess.run([sys.executable, "-m", "videoagent", "ingest", str(fixture("narrated")), "--index", str(index)],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    files = [fixture(n) for n in args.ingest]
    port = free_port()
    server = start_server(index, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as http:
            video_ids = [v["video_id"] for v in http.get("/videos", params={"status": "done"}).json()["videos"]]
            http.post("/ask", json={"video_id": video_ids[0], "question": "What is shown?"})  # models loaded first
            jobs = [http.post("/jobs/ingest", json={"folder": str(f)}).json()["id"] for f in files]

            def ingest_done() -> bool:
                return all(http.get(f"/jobs/{j}").json()["status"] in ("done", "failed") for j in jobs)

            load = run_clients(base, video_ids, args.clients, args.seconds, args.requests, ingest_done)
            results = [wait_job(http, j, 1800) for j in jobs]
    finally:
        server.terminate()
        server.wait(30)
    failed_jobs = [r for job in results for r in job["results"] if r["status"] == "failed"]
    problems = check_rows(index, [str(f) for f in files])

    print(
        f"index {index}; {args.clients} clients for up to {args.seconds:.0f} s; ingest of {len(files)} videos meanwhile"
    )
    print(f"{'endpoint':<14} {'requests':>8} {'p50 s':>8} {'p99 s':>8} {'max s':>8}")
    for name, values in sorted(load["times"].items()):
        p50, p99 = statistics.median(values), pct(values, 0.99)
        print(f"{name:<14} {len(values):>8} {p50:>8.2f} {p99:>8.2f} {max(values):>8.2f}")
    print(f"errors: {len(load['errors'])} (target 0)" + "".join(f"\n  {e}" for e in load["errors"][:10]))
    if load["errors"]:
        print(f"server log ({index / 'load_test_server.log'}), last lines:")
        print("\n".join((index / "load_test_server.log").read_text().splitlines()[-30:]))
    ingest_s = max(j["updated"] for j in results) - min(j["created"] for j in results)
    print(f"ingest jobs: {ingest_s:.1f} s, {len(failed_jobs)} failed; the load ended "
          f"{'while the ingest still ran' if load['during_ingest'] else 'after the ingest had finished'}")  # fmt: skip
    print("rows exactly once: " + ("ok" if not problems else "NO\n  " + "\n  ".join(problems)))
    return 1 if load["errors"] or problems or failed_jobs else 0


if __name__ == "__main__":
    sys.exit(main())
