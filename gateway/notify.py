"""E-mail: messages are queued in the ``notifications`` table, then sent by :func:`send_pending`.

A job only ever *queues* (one row per ``dedup_key``, so a re-run never sends twice); sending happens after
the job, and a failure is recorded on the row (attempts, last error, next attempt with a growing delay)
for a later run: a dead mail server never blocks a job.

Transports (``[mail] mode``): ``file`` (embedded default) writes one ``.eml`` per message into the mailbox
folder (``outbox/_mail``); ``smtp`` speaks to ``host:port`` with ``security`` none, ``starttls`` or
``tls``, logging in when a username is set. The password is never logged nor put in an error message.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from gateway.config import Config
from gateway.files import atomic_write, safe_name
from gateway.log import get_logger
from gateway.store.jobs import JobsStore, Pending
from gateway.store.repo import Store

log = get_logger(__name__)

MAX_BACKOFF = timedelta(hours=6)
SIGNATURE = (
    "\n\n--\nPasserelle de déclaration des Caisses Sociales de Monaco\n"
    "Service Recouvrement — 11 rue Louis Notari, MC 98030 Monaco Cedex — recouvrement@caisses-sociales.mc\n"
    "Ce message est envoyé automatiquement ; merci de ne pas y répondre."
)


class MailError(Exception):
    """A message could not be handed to the mail server (the text never holds the password)."""


@dataclass(frozen=True)
class SendReport:
    sent: int
    failed: int


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failures: 1, 2, 4 … minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def queue(store: Store, *, dedup_key: str, subscriber_id: int | None, recipient: str | None, subject: str,
          body: str, now: datetime) -> bool:
    """Queue a French message; False when it was queued before or there is no address to send it to."""
    if not recipient:
        log.warning("mail.no_recipient", dedup_key=dedup_key)
        return False
    return JobsStore(store).queue(dedup_key=dedup_key, subscriber_id=subscriber_id, recipient=recipient,
                                  subject=subject, body=body + SIGNATURE, now=now)


def build_message(config: Config, pending: Pending, now: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.mail.sender
    msg["To"] = pending.recipient
    msg["Subject"] = pending.subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=config.mail.sender.rpartition("@")[2] or "localhost")
    msg["Content-Language"] = "fr"
    msg.set_content(pending.body, charset="utf-8")
    return msg


def mailbox_dir(config: Config) -> Path:
    return config.path(config.mail.mailbox)


def _deliver_file(config: Config, msg: EmailMessage, pending: Pending) -> None:
    name = f"{pending.id:08d}-{safe_name(pending.dedup_key, default='message')[:80]}.eml"
    atomic_write(mailbox_dir(config) / name, bytes(msg))


def _deliver_smtp(config: Config, msg: EmailMessage) -> None:
    m = config.mail
    try:
        smtp: smtplib.SMTP
        if m.security == "tls":
            smtp = smtplib.SMTP_SSL(m.host, m.port, timeout=m.timeout_seconds, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(m.host, m.port, timeout=m.timeout_seconds)
        with smtp:
            if m.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if m.username:
                smtp.login(m.username, m.password)
            smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"authentification SMTP refusée pour {m.username} ({exc.smtp_code})") from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        # str(exc) of smtplib/socket errors never contains the password: safe to keep
        raise MailError(f"{m.host}:{m.port}: {exc.__class__.__name__}: {exc}") from None


def send_pending(config: Config, store: Store, now: datetime, limit: int = 100) -> SendReport:
    """Send what is due; each failure is recorded for a later try. Never raises for a mail problem."""
    jobs = JobsStore(store)
    sent = failed = 0
    with _SENDING:  # the mail job and every job's own flush may run at once in the daemon's threads
        for pending in jobs.due(now, limit):
            with jobs.claim_notification(pending.id) as claim:
                if claim is None:
                    continue  # another instance is sending it, or has sent it
                msg = build_message(config, pending, now)
                try:
                    if config.mail.mode == "smtp":
                        _deliver_smtp(config, msg)
                    else:
                        _deliver_file(config, msg, pending)
                except (MailError, OSError) as exc:
                    failed += 1
                    retry_at = now + backoff(pending.attempts + 1)
                    claim.failed(str(exc), retry_at)
                    log.warning("mail.failed", id=pending.id, attempts=pending.attempts + 1, error=str(exc),
                                retry_at=retry_at.isoformat())
                    continue
                claim.sent(now)
            sent += 1
            log.info("mail.sent", id=pending.id, mode=config.mail.mode)
    return SendReport(sent, failed)


_SENDING = threading.Lock()
