from __future__ import annotations

import io
import json
import logging

from argon2 import PasswordHasher

from gateway import log, security
from tests.conftest import legacy_scrypt_hash


def test_password_hash_round_trip() -> None:
    stored = security.hash_password("correct horse battery staple")
    # Argon2id with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and "correct" not in stored
    assert security.verify_password("correct horse battery staple", stored)
    assert not security.verify_password("wrong", stored)
    assert not security.verify_password("x", None)
    assert not security.verify_password("x", "garbage$1$2")
    assert not security.verify_password("x", "$argon2id$v=19$m=19456,t=2,p=1$not-a-hash")
    assert security.hash_password("same") != security.hash_password("same"), "salted"
    assert not security.needs_rehash(stored)


def test_earlier_scrypt_hashes_still_check_and_ask_to_be_replaced() -> None:
    stored = legacy_scrypt_hash("correct horse battery staple")
    assert security.verify_password("correct horse battery staple", stored)
    assert not security.verify_password("wrong", stored)
    assert not security.verify_password("x", stored.replace("$14$", "$x$"))  # malformed: refused, not raised
    assert security.needs_rehash(stored)
    assert security.needs_rehash(None)
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pw")
    assert security.verify_password("pw", weaker) and security.needs_rehash(weaker)


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
