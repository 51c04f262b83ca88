"""Password hashing (scrypt with a memory cap), constant-time checks, and verification codes.

Stored form: ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>``. Passwords and hashes are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_LOG_N, _R, _P = 14, 8, 1  # 16 MiB per hash: ~50 ms here, far from the cap below
_MAXMEM = 64 * 1024 * 1024
_DKLEN = 32
_PREFIX = "scrypt"


def _derive(password: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=1 << log_n, r=r, p=p, maxmem=_MAXMEM, dklen=_DKLEN)


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("mot de passe vide")
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, _LOG_N, _R, _P)
    b64 = base64.b64encode
    return f"{_PREFIX}${_LOG_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches ``stored``; a missing or malformed hash costs the same time."""
    if not stored:
        dummy_verify(password)
        return False
    try:
        prefix, log_n, r, p, salt, digest = stored.split("$")
        if prefix != _PREFIX:
            raise ValueError(prefix)
        expected = base64.b64decode(digest)
        actual = _derive(password, base64.b64decode(salt), int(log_n), int(r), int(p))
    except (ValueError, TypeError):
        dummy_verify(password)
        return False
    return hmac.compare_digest(actual, expected)


_DUMMY_SALT = secrets.token_bytes(16)


def dummy_verify(password: str) -> None:
    """Spend the time of one real check, so an unknown account answers like a wrong password."""
    _derive(password or "x", _DUMMY_SALT, _LOG_N, _R, _P)


def verification_code() -> str:
    """A code a subscriber proves its e-mail address with: 8 characters, no ambiguous letters."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))
