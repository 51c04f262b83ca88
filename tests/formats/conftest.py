"""Fixtures of the formats tests: a canary file and a canary HTTP server that no input may ever reach."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).parent
DATA = HERE / "data"
HOSTILE = HERE / "hostile"
CANARY_TEXT = "CANARY-SECRET-7f3a"


@dataclass
class Canary:
    """A local file with a secret and a local HTTP server that records every request it gets."""

    path: Path
    url: str
    hits: list[str] = field(default_factory=list)

    def fill(self, template: bytes) -> bytes:
        """A hostile file's template with the canary's path and URL in place."""
        return template.replace(b"@CANARY@", str(self.path).encode()).replace(b"@URL@", self.url.encode())


@pytest.fixture(scope="session")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Canary]:
    secret = tmp_path_factory.mktemp("canary") / "secret.txt"
    secret.write_text(CANARY_TEXT)
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = f'<!ENTITY x "{CANARY_TEXT}">'.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Canary(secret, f"http://127.0.0.1:{server.server_address[1]}", hits)
    finally:
        server.shutdown()
        server.server_close()


def today_open() -> object:
    """A day on which the 2026-11 period of the examples is open and not late."""
    from datetime import date

    return date(2026, 11, 25)
