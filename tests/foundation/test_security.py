from __future__ import annotations

import io
import json
import logging

from gateway import log, security


def test_password_hash_round_trip() -> None:
    stored = security.hash_password("correct horse battery staple")
    assert stored.startswith("scrypt$") and "correct" not in stored
    assert security.verify_password("correct horse battery staple", stored)
    assert not security.verify_password("wrong", stored)
    assert not security.verify_password("x", None)
    assert not security.verify_password("x", "garbage$1$2")
    assert security.hash_password("same") != security.hash_password("same"), "salted"


def test_logs_never_carry_secrets_or_salaries() -> None:
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(log.JsonFormatter())
    logger = logging.getLogger("test.secrets")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    log.get_logger("test.secrets").info("login", subscriber="123456", password="hunter2", gross="3250.00")
    doc = json.loads(buf.getvalue())
    assert doc["event"] == "login" and doc["subscriber"] == "123456"
    assert doc["password"] == "***" and doc["gross"] == "***"
    assert "hunter2" not in buf.getvalue() and "3250" not in buf.getvalue()
