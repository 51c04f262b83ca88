"""E-mail verification: setting a subscriber's address sends a code; an upload of
``email-verification.txt`` holding that code proves the address.

The pipeline calls :func:`verify_upload` for a file of that name (instead of reading it as a declaration)
and puts the returned French message in the acknowledgement.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from gateway import notify
from gateway.errors import InputError
from gateway.log import get_logger
from gateway.security import verification_code
from gateway.store.jobs import JobsStore
from gateway.store.repo import Store

log = get_logger(__name__)

FILE_NAME = "email-verification.txt"
MAX_BYTES = 256  # a code is 8 characters; anything much bigger is not a verification file


def set_email(store: Store, subscriber: str, address: str, now: datetime) -> str:
    """Store ``address`` as unverified with a fresh code and queue the French e-mail carrying it.

    Returns the code (the CLI does not print it: it travels by e-mail only).
    """
    address = address.strip()
    local, _, domain = address.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in address) or len(address) > 254:
        raise InputError(f"adresse e-mail invalide: {address!r}")
    code = verification_code()
    store.set_email(subscriber, address, code=code, verified_at=None)
    info = JobsStore(store).subscriber_info(subscriber)
    body = (
        f"Bonjour,\n\nL'adresse {address} a été indiquée pour l'abonné {subscriber} ({info.name}) de la "
        "passerelle de déclaration des Caisses Sociales de Monaco.\n\n"
        f"Votre code de validation : {code}\n\n"
        f"Pour valider cette adresse, déposez dans votre dossier de dépôt (SFTP) un fichier nommé {FILE_NAME} "
        "contenant uniquement ce code. L'accusé de réception confirmera la validation.\n"
        "Tant que l'adresse n'est pas validée, vos déclarations ne peuvent pas être enregistrées.\n\n"
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message."
    )
    # one message per code: setting the address again sends the new code
    notify.queue(store, dedup_key=f"verify:{subscriber}:{code}", subscriber_id=info.id, recipient=address,
                 subject="Validation de votre adresse e-mail — passerelle CSM", body=body, now=now)
    log.info("subscriber.email_set", subscriber=subscriber)
    return code


def verify_upload(store: Store, subscriber: str, data: bytes, now: datetime) -> tuple[bool, str]:
    """Check an uploaded ``email-verification.txt``: (verified, French message for the acknowledgement).

    Whitespace around the code is ignored, letters are compared upper-cased, the comparison is constant
    time, and a file larger than a few hundred bytes is refused unread.
    """
    jobs = JobsStore(store)
    expected, verified_at = jobs.verification_state(subscriber)
    if expected is None:
        if verified_at is not None:
            return True, "Votre adresse e-mail est déjà validée."
        return False, "Aucune validation d'adresse e-mail n'est en attente pour cet abonné."
    if len(data) > MAX_BYTES:
        return False, f"Le fichier {FILE_NAME} doit contenir uniquement le code reçu par e-mail."
    try:
        given = data.decode("utf-8-sig").strip().upper()
    except UnicodeDecodeError:
        given = ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("subscriber.email_code_wrong", subscriber=subscriber)
        return False, ("Le code de validation ne correspond pas à celui envoyé par e-mail ; "
                       "vérifiez-le ou demandez un nouveau code aux Caisses Sociales.")
    if not jobs.mark_verified(subscriber, expected, now):
        return False, "Le code a changé entre-temps : utilisez le dernier code reçu par e-mail."
    log.info("subscriber.email_verified", subscriber=subscriber)
    return True, "Votre adresse e-mail est validée : vos déclarations peuvent désormais être enregistrées."
