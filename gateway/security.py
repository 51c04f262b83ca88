"""Password hashing (Argon2id), constant-time checks, and verification codes.

Stored form: Argon2id's PHC string, ``$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>``, with the parameters
OWASP's Password Storage Cheat Sheet gives as Argon2id's minimum (19 MiB, 2 passes, 1 lane: about 30 ms
here). Hashes stored before 2026-11-27 are ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>`` with
n = 2^14, r = 8, p = 1, below that guide's minimum for scrypt: they are still checked, and replaced by an
Argon2id hash at the subscriber's next successful login (:func:`needs_rehash`). A refused login answers
after the SFTP server's fixed delay whatever the hash (``[sftp] failure_delay_seconds``). Passwords and
hashes are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16)
_ARGON2 = "$argon2id$"
_SCRYPT = "scrypt"  # the earlier form, checked only
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("mot de passe vide")
    return _HASHER.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches ``stored``; a missing or malformed hash costs the time of a check."""
    if stored and stored.startswith(_ARGON2):
        try:
            return _HASHER.verify(stored, password)
        except VerificationError:  # wrong password (VerifyMismatchError) or a hash that cannot be checked
            return False
        except InvalidHashError:
            pass
    elif stored and stored.startswith(_SCRYPT + "$"):
        try:
            return _verify_scrypt(password, stored)
        except (ValueError, TypeError):
            pass
    dummy_verify(password)
    return False


def needs_rehash(stored: str | None) -> bool:
    """True when ``stored`` is not an Argon2id hash with today's parameters (an earlier scrypt hash, or
    weaker parameters): hash the password again once it has been checked."""
    if not stored or not stored.startswith(_ARGON2):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    prefix, log_n, r, p, salt, digest = stored.split("$")
    if prefix != _SCRYPT:
        raise ValueError(prefix)
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=1 << int(log_n), r=int(r),
                            p=int(p), maxmem=_SCRYPT_MAXMEM, dklen=len(expected))
    return hmac.compare_digest(actual, expected)


_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))


def dummy_verify(password: str) -> None:
    """Spend the time of one real check, so an unknown account answers like a wrong password."""
    try:
        _HASHER.verify(_DUMMY, password or "x")
    except VerificationError:
        pass


def verification_code() -> str:
    """A code a subscriber proves its e-mail address with: 8 characters, no ambiguous letters."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))
