"""The built-in SFTP server's Authenticator over the store: subscriber number + password, or a registered key.

Every refusal looks the same (unknown subscriber, wrong password, unknown key, disabled subscriber) and takes
the same time (a dummy hash check for unknown subscribers). A subscriber whose e-mail address is not verified
may log in; its uploads are refused with the reason, except ``email-verification.txt``.
"""

from __future__ import annotations

import hmac

from gateway.bootstrap import subscriber_folders
from gateway.config import Config
from gateway.log import get_logger
from gateway.security import dummy_verify, needs_rehash, verify_password
from gateway.store.repo import Store
from gateway.transport.auth import Account

log = get_logger(__name__)

UNVERIFIED = ("adresse e-mail non validée : déposez d'abord email-verification.txt avec le code reçu par e-mail")


class StoreAuthenticator:
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store

    def _account(self, number: str, verified: bool) -> Account:
        inbox, outbox = subscriber_folders(self.config, number)  # made again if an operator removed them
        return Account(number, inbox, outbox, uploads_allowed=verified, reason=None if verified else UNVERIFIED)

    def password(self, username: str, password: str) -> Account | None:
        info = self.store.login_info(username) if username.isdigit() else None
        if info is None:
            dummy_verify(password)
            return None
        stored, disabled, verified, _keys = info
        if not verify_password(password, stored) or disabled:
            return None
        if needs_rehash(stored):  # an earlier scrypt hash: Argon2id from now on (the password is known here)
            try:
                self.store.set_password(username, password)
            except Exception:
                log.exception("sftp.auth.rehash_failed", subscriber=username)
        return self._account(username, verified)

    def public_key(self, username: str, key_type: str, key_blob: bytes) -> Account | None:
        info = self.store.login_info(username) if username.isdigit() else None
        if info is None:
            return None
        _stored, disabled, verified, keys = info
        match = any(t == key_type and hmac.compare_digest(b, key_blob) for t, b in keys)
        if not match or disabled:
            return None
        return self._account(username, verified)
