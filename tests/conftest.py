"""Shared fixtures: a gateway home in a temporary folder, on SQLite or on the PostgreSQL of
``GATEWAY_TEST_DATABASE_URL`` (CI runs the suite on both)."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import config as config_mod
from gateway.config import Config

PG_SERVER_URL = os.environ.get("GATEWAY_TEST_DATABASE_URL", "")


def _private_database(url: str) -> str:
    """A database of this test process's own on the given server, so that concurrent runs never collide."""
    if not url:
        return ""
    from sqlalchemy import text

    from gateway.store.db import make_engine

    name = f"gw_test_{os.getpid()}"
    engine = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


PG_URL = _private_database(PG_SERVER_URL)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if PG_URL:
        from sqlalchemy import text

        from gateway.store.db import make_engine

        engine = make_engine(PG_SERVER_URL).execution_options(isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_URL.rsplit("/", 1)[1]}" WITH (FORCE)'))
        engine.dispose()


def reset_postgres(url: str) -> None:
    """Empty the test database (the suite owns it): drop and recreate the public schema."""
    from sqlalchemy import text

    from gateway.store.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def legacy_scrypt_hash(password: str) -> str:
    """A password hash in the form stored before 2026-11-27 (scrypt, n = 2^14, r = 8, p = 1)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=1 << 14, r=8, p=1, maxmem=64 << 20, dklen=32)
    return f"scrypt$14$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def make_config(home: Path, **sections: dict[str, object]) -> Config:
    """A config rooted at ``home``; the database is SQLite in ``home`` unless PostgreSQL is asked for."""
    data: dict[str, object] = {"database": {"url": PG_URL or "sqlite:///gateway.db"}}
    data["sftp"] = {"enabled": False}
    data["intake"] = {"settle_seconds": 0}
    for name, values in sections.items():
        merged = dict(data.get(name, {}))  # type: ignore[call-overload]
        merged.update(values)
        data[name] = merged
    return config_mod.parse(data, base_dir=home)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def config(home: Path) -> Config:
    return make_config(home)


@pytest.fixture
def store(config: Config) -> Iterator[object]:
    """An initialised, empty store."""
    from gateway.store.repo import Store

    if PG_URL:
        reset_postgres(PG_URL)
    s = Store.connect(config)
    s.upgrade()
    yield s
    s.close()


@pytest.fixture
def demo_store(store: object) -> object:
    from gateway import demo

    demo.load(store)  # type: ignore[arg-type]
    return store
