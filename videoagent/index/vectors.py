"""Where an index's vectors live: embedded Chroma in `<index>/chroma` (one process), or a Chroma server.

The embedded client keeps its state per process, so only one process may write an index that way (the
CLI, or the web app's one writer). A server started with `chroma run --path DIR --port P` takes writers
and readers from any number of processes; `<index>/index.yaml` names it (config.IndexConfig), and every
process that opens the index reads that file. The catalog stays in `<index>/catalog.sqlite` either way
(SQLite's own locking lets several processes on one machine share it).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ..config import ChromaServerConfig, load_index_config
from ..errors import ConfigError, IndexUnavailable

# chromadb's registry of embedded systems is not thread-safe: two threads opening the same path at once
# start two systems, and the loser's cleanup removes the winner's (KeyError, or a crash in its Rust core).
_OPENING = threading.Lock()


def open_client(root: Path):
    """The Chroma client for the index at `root`, as its index.yaml says (safe to call from any thread)."""
    import chromadb
    from chromadb.config import Settings

    server = load_index_config(root).chroma
    with _OPENING:
        if server is None:
            return chromadb.PersistentClient(path=str(root / "chroma"), settings=Settings(anonymized_telemetry=False))
        return _server_client(server, root)


def _server_client(server: ChromaServerConfig, root: Path):
    import chromadb
    from chromadb.config import Settings

    where = f"chroma server {server.host}:{server.port} (from {root / 'index.yaml'})"
    headers = {}
    if server.token_env:
        token = os.environ.get(server.token_env)
        if not token:
            raise ConfigError(f"{root / 'index.yaml'}: token_env {server.token_env} is not set in the environment")
        headers["Authorization"] = f"Bearer {token}"
    settings = Settings(anonymized_telemetry=False)
    try:
        admin = chromadb.AdminClient(
            Settings(
                anonymized_telemetry=False,
                chroma_api_impl="chromadb.api.fastapi.FastAPI",
                chroma_server_host=server.host,
                chroma_server_http_port=server.port,
                chroma_server_ssl_enabled=server.ssl,
                chroma_server_headers=headers or None,
            )
        )
        try:
            admin.get_database(server.database, tenant=server.tenant)
        except Exception:  # noqa: BLE001 - chromadb raises its own NotFound types by version: create it
            admin.create_database(server.database, tenant=server.tenant)
        return chromadb.HttpClient(
            host=server.host,
            port=server.port,
            ssl=server.ssl,
            headers=headers,
            tenant=server.tenant,
            database=server.database,
            settings=settings,
        )
    except (ConnectionError, OSError, ValueError) as exc:
        raise IndexUnavailable(f"{where}: cannot connect ({exc})") from None
    except Exception as exc:  # httpx and chromadb connection errors have no common base
        if "connect" in str(exc).lower() or type(exc).__name__.endswith(("ConnectError", "ConnectTimeout")):
            raise IndexUnavailable(f"{where}: cannot connect ({exc})") from None
        raise
