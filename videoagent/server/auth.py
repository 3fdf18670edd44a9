"""Who may use the server: a token, where one is configured, on every API and media request.

The page itself (`/` and its static files) holds no data and opens without it, then asks for the token
and trades it at `POST /login` for an HttpOnly, same-site cookie, because a `<video>` element cannot
send an Authorization header. Programs send `Authorization: Bearer TOKEN` instead. A server bound to an
address other than loopback refuses to start without a token.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..errors import ConfigError

COOKIE = "videoagent_token"
OPEN = ("/", "/login", "/logout", "/auth", "/favicon.ico")  # no data behind these
OPEN_PREFIX = "/static/"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve an index beyond this machine without a token."""
    if not token and not is_loopback(host):
        raise ConfigError(
            f"--host {host}: refusing to serve beyond loopback without a token (set VIDEOAGENT_TOKEN or --token)"
        )


def presented(request: Request) -> str | None:
    """The token a request carries: its bearer header, else the page's cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE)


def matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def require_token(app: FastAPI, token: str) -> None:
    """Every request but the page's shell answers 401 unless it carries `token`."""

    @app.middleware("http")
    async def gate(request: Request, call_next):
        path = request.url.path
        if path in OPEN or path.startswith(OPEN_PREFIX) or matches(presented(request), token):
            return await call_next(request)
        return JSONResponse(
            {"detail": "this server needs a token: send 'Authorization: Bearer TOKEN' or log in on the page"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
