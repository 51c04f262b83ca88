"""E-mail: a real SMTP server (aiosmtpd), the file mailbox, retries with backoff; e-mail verification."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from gateway import notify
from gateway.config import Config
from gateway.store.jobs import JobsStore
from gateway.verification import set_email, verify_upload
from tests.conftest import make_config
from tests.jobs.conftest import SEPA, at


def test_smtp_delivery_and_no_double_send(home: Path, jstore: Any, smtp: Any) -> None:
    inbox, port = smtp
    config = make_config(home, sepa=SEPA, mail={"mode": "smtp", "port": port})
    from gateway.jobs import run_job

    r = run_job(config, jstore, "prefill", now=at(2026, 11, 20))
    assert r.mails == 2
    deadline = time.monotonic() + 5
    while len(inbox.messages) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert len(subjects) == 2 and "période ouverte" in str(subjects[0])
    body = inbox.messages[0].get_payload(decode=True).decode()
    assert "pré-remplies" in body
    run_job(config, jstore, "prefill", now=at(2026, 11, 21))
    assert len(inbox.messages) == 2


def test_failed_send_is_retried_later_and_never_blocks(home: Path, jstore: Any, smtp: Any) -> None:
    from tests.jobs.conftest import free_port

    inbox, port = smtp
    dead = make_config(home, sepa=SEPA, mail={"mode": "smtp", "port": free_port(), "timeout_seconds": 2,
                                              "password": "s3cret-pw", "username": ""})
    from gateway.jobs import run_job

    r = run_job(dead, jstore, "prefill", now=at(2026, 11, 20))
    assert len(r.produced) == 8  # the job did its work
    rows = JobsStore(jstore).notifications()
    assert all(n.sent_at is None and n.attempts == 1 and n.last_error for n in rows)
    assert all("s3cret" not in (n.last_error or "") for n in rows)
    alive = make_config(home, sepa=SEPA, mail={"mode": "smtp", "port": port})
    assert notify.send_pending(alive, jstore, at(2026, 11, 20) + timedelta(seconds=30)).sent == 0  # backoff
    report = notify.send_pending(alive, jstore, at(2026, 11, 20, 8) + timedelta(minutes=2))
    assert report.sent == 2 and len(inbox.messages) == 2


def test_backoff_grows_and_is_capped() -> None:
    assert [notify.backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert notify.backoff(30) == notify.MAX_BACKOFF


def test_set_email_sends_code_and_upload_verifies(jconfig: Config, jstore: Any) -> None:
    code = set_email(jstore, "100001", "nouvelle@cabinet.example", at(2026, 11, 2))
    assert jstore.show_subscriber("100001")["email_verified_at"] is None
    notify.send_pending(jconfig, jstore, at(2026, 11, 2))
    eml = next((jconfig.outbox / "_mail").glob("*.eml")).read_bytes().decode()
    assert "To: nouvelle@cabinet.example" in eml and "email-verification.txt" in eml
    ok, message = verify_upload(jstore, "100001", b"WRONG123\n", at(2026, 11, 2))
    assert not ok and "ne correspond pas" in message
    assert not verify_upload(jstore, "100001", b"x" * 1000, at(2026, 11, 2))[0]
    ok, message = verify_upload(jstore, "100001", f"\ufeff  {code.lower()}\r\n".encode(), at(2026, 11, 3))
    assert ok and "validée" in message
    assert jstore.show_subscriber("100001")["email_verified_at"] is not None
    assert verify_upload(jstore, "100001", code.encode(), at(2026, 11, 3)) == (True, "Votre adresse e-mail est déjà validée.")


def test_set_email_rejects_a_bad_address(jstore: Any) -> None:
    import pytest

    from gateway.errors import InputError

    with pytest.raises(InputError):
        set_email(jstore, "100001", "pas une adresse", at(2026, 11, 2))
