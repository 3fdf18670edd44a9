"""The web app's background jobs: ingest and tagging, one at a time on one writer thread, kept on disk.

Chroma's embedded client is safe with one writing process, so the server that reads the index also
owns its only writer: a thread that takes queued jobs oldest first. Jobs live in `<index>/jobs.sqlite`,
so a server that is stopped mid-job finds it again on start and runs it anew: ingest resumes from the
stage artifacts and skips the videos already done, tagging skips the videos already tagged. Every change
bumps a version number; `changes(after)` is what the page's event stream polls.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("ingest", "tag")
STATES = ("queued", "running", "done", "failed")
KEEP = 200  # finished jobs kept (the oldest are forgotten)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, paths TEXT NOT NULL, options TEXT NOT NULL,
    status TEXT NOT NULL, progress TEXT NOT NULL DEFAULT '{}', results TEXT NOT NULL DEFAULT '[]',
    error TEXT, created REAL NOT NULL, updated REAL NOT NULL
);
"""


@dataclass
class Job:
    id: str
    kind: str  # ingest | tag
    paths: list[str]  # files and folders to ingest, or video ids to tag (empty: every video)
    options: dict[str, Any] = field(default_factory=dict)
    status: str = "queued"
    progress: dict[str, Any] = field(default_factory=dict)  # file, stage, done, total
    results: list[dict[str, Any]] = field(default_factory=list)  # one per file or video, with its status
    error: str | None = None
    created: float = 0.0
    updated: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# A job's runner: (job, report) -> results; `report(progress=..., result=...)` records a step as it happens.
Runner = Callable[[Job, Callable[..., None]], list[dict[str, Any]]]


class JobQueue:
    def __init__(self, root: str | Path, runners: dict[str, Runner]):
        self.runners = runners
        self.db = sqlite3.connect(Path(root) / "jobs.sqlite", timeout=30, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.version = 0
        with self.db:  # a job that was running when the last server stopped runs again
            self.db.execute("UPDATE jobs SET status='queued', progress='{}' WHERE status='running'")
        self._stop = False
        self._thread: threading.Thread | None = None

    # ---- submitting and reading --------------------------------------------------------------
    def submit(self, kind: str, paths: list[str], options: dict[str, Any] | None = None) -> Job:
        if kind not in KINDS:
            raise ValueError(f"job kind {kind}: expected one of {', '.join(KINDS)}")
        now = time.time()
        job = Job(uuid.uuid4().hex[:12], kind, list(paths), options or {}, created=now, updated=now)
        with self.lock:
            with self.db:
                self.db.execute(
                    "INSERT INTO jobs (id, kind, paths, options, status, created, updated)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (job.id, kind, json.dumps(job.paths), json.dumps(job.options), job.status, now, now),
                )
            self._bump()
        self.start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            row = self.db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return _job(row) if row else None

    def jobs(self, limit: int = 50) -> list[Job]:
        with self.lock:
            rows = self.db.execute("SELECT * FROM jobs ORDER BY created DESC LIMIT ?", (limit,)).fetchall()
        return [_job(r) for r in rows]

    def changes(self, after: int, timeout: float = 0.0) -> tuple[int, list[Job]]:
        """(version, the jobs) once the version has passed `after`, waiting up to `timeout` s; ([]) if not."""
        with self.changed:
            if self.version <= after and timeout > 0:
                self.changed.wait(timeout)
            if self.version <= after:
                return self.version, []
            version = self.version
        return version, self.jobs()

    def idle(self) -> bool:
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')").fetchone()[0] == 0

    # ---- the worker --------------------------------------------------------------------------
    def start(self) -> None:
        with self.lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="videoagent-jobs", daemon=True)
                self._thread.start()

    def close(self, timeout: float = 30.0) -> None:
        """Stop after the running job (it is left queued if the wait times out, and runs on next start)."""
        self._stop = True
        if self._thread is not None:
            self._thread.join(timeout)

    def _work(self) -> None:
        while not self._stop:
            job = self._next()
            if job is None:
                return  # idle: the next submit starts a new worker
            try:
                results = self.runners[job.kind](job, functools.partial(self._report, job))
            except Exception as exc:  # noqa: BLE001 - a failed job says why; the queue goes on
                self._finish(job, "failed", job.results, f"{type(exc).__name__}: {exc}")
            else:
                failed = [r for r in results if r.get("status") == "failed"]
                error = f"{len(failed)} of {len(results)} failed" if failed else None
                self._finish(job, "done", results, error)

    def _next(self) -> Job | None:
        with self.lock:
            row = self.db.execute("SELECT * FROM jobs WHERE status='queued' ORDER BY created LIMIT 1").fetchone()
            if row is None:
                self._thread = None
                return None
            with self.db:
                self.db.execute("UPDATE jobs SET status='running', updated=? WHERE id=?", (time.time(), row["id"]))
            self._bump()
        job = _job(row)
        job.status = "running"
        return job

    def _report(self, job: Job, progress: dict[str, Any] | None = None, result: dict[str, Any] | None = None) -> None:
        if progress is not None:
            job.progress = progress
        if result is not None:
            job.results.append(result)
        self._write(job)

    def _finish(self, job: Job, status: str, results: list[dict[str, Any]], error: str | None) -> None:
        job.status, job.results, job.error = status, results, error
        job.progress = {**job.progress, "stage": None, "file": None}
        self._write(job)
        with self.lock, self.db:
            self.db.execute(
                "DELETE FROM jobs WHERE status IN ('done', 'failed') AND id NOT IN"
                " (SELECT id FROM jobs WHERE status IN ('done', 'failed') ORDER BY created DESC LIMIT ?)",
                (KEEP,),
            )

    def _write(self, job: Job) -> None:
        with self.lock:
            with self.db:
                self.db.execute(
                    "UPDATE jobs SET status=?, progress=?, results=?, error=?, updated=? WHERE id=?",
                    (job.status, json.dumps(job.progress), json.dumps(job.results), job.error, time.time(), job.id),
                )
            self._bump()

    def _bump(self) -> None:
        """Called with the lock held: a new version, and whoever waits on it wakes."""
        self.version += 1
        self.changed.notify_all()


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        kind=row["kind"],
        paths=json.loads(row["paths"]),
        options=json.loads(row["options"]),
        status=row["status"],
        progress=json.loads(row["progress"]),
        results=json.loads(row["results"]),
        error=row["error"],
        created=row["created"],
        updated=row["updated"],
    )
