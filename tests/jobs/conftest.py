"""Fixtures of the job tests: demo data, a test clock, a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date, datetime
from email import message_from_bytes
from email.message import Message
from email.policy import default
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.config import Config
from tests.conftest import make_config

MONACO = ZoneInfo("Europe/Monaco")


def at(y: int, m: int, d: int, h: int = 7) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=MONACO)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


SEPA = {"creditor_iban": "FR7630006000011234567890189", "creditor_bic": "AGRIFRPP", "creditor_id": "MC54ZZZ123456"}


@pytest.fixture
def jconfig(home: Path) -> Config:
    return make_config(home, sepa=SEPA)


@pytest.fixture
def jstore(jconfig: Config) -> Iterator[Any]:
    from gateway import demo
    from gateway.store.repo import Store
    from tests.conftest import PG_URL, reset_postgres

    if PG_URL:
        reset_postgres(PG_URL)
    s = Store.connect(jconfig)
    s.upgrade()
    demo.load(s)
    yield s
    s.close()


def on_direct_debit(store: Any) -> None:
    from gateway.sepa import set_direct_debit

    set_direct_debit(store, "104512", "MC5811222000010123456789030", "SOGEMCM1", date(2026, 10, 1))
