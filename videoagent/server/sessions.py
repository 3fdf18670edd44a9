"""Chat sessions by id for the HTTP API: a bound on their number and on their idle age."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..qa.agent import Agent

MAX_SESSIONS = 256  # chat sessions kept (least recently used dropped first)
SESSION_IDLE_S = 3600.0  # a session unused this long is forgotten


class Sessions:
    """Chat sessions by id, at most `limit` of them and none idle longer than `idle_s`: the least
    recently used go first. Not thread-safe on its own: the app holds a lock around it."""

    def __init__(self, limit: int = MAX_SESSIONS, idle_s: float = SESSION_IDLE_S, clock=time.monotonic):
        self.limit, self.idle_s, self.clock = limit, idle_s, clock
        self._agents: OrderedDict[str, tuple[float, Agent]] = OrderedDict()

    def get(self, session: str | None, video_id: str, start: Callable[[], Agent]) -> Agent:
        """The session's agent when it is about `video_id`, else a new one (a session follows one video);
        no session: a new agent, kept nowhere."""
        if not session:
            return start()
        self._expire()
        found = self._agents.get(session)
        agent = found[1] if found and found[1].video_id == video_id else start()
        self._agents[session] = (self.clock(), agent)
        self._agents.move_to_end(session)
        while len(self._agents) > self.limit:
            self._agents.popitem(last=False)
        return agent

    def drop(self, session: str) -> bool:
        self._expire()
        return self._agents.pop(session, None) is not None

    def __len__(self) -> int:
        self._expire()
        return len(self._agents)

    def _expire(self) -> None:
        now = self.clock()
        while self._agents and now - next(iter(self._agents.values()))[0] > self.idle_s:
            self._agents.popitem(last=False)
