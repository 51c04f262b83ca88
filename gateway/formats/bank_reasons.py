"""The ISO 20022 external reason codes a bank gives for a rejected or returned direct debit, in French.

The codes are those of the ISO 20022 external code sets ``ExternalStatusReason1Code`` (pain.002) and
``ExternalReturnReason1Code`` (camt.054), limited to the ones the SEPA Direct Debit rulebook uses for
R-transactions (rejects, returns, refunds) and a few a bank adds. A code not listed here is shown as
« motif CODE »: never a guess at its meaning.
"""

from __future__ import annotations

REASONS: dict[str, str] = {
    "AC01": "identifiant de compte incorrect (IBAN invalide ou inexistant)",
    "AC04": "compte clôturé",
    "AC06": "compte bloqué",
    "AC13": "compte du débiteur réservé aux particuliers",
    "AG01": "opération interdite sur ce compte",
    "AG02": "code d'opération bancaire invalide",
    "AM04": "provision insuffisante",
    "AM05": "doublon",
    "BE05": "identifiant du créancier incorrect",
    "CNOR": "banque du créancier non joignable",
    "CURR": "devise incorrecte",
    "CUST": "annulation demandée par le débiteur",
    "DNOR": "banque du débiteur non joignable",
    "DUPL": "paiement en double",
    "ED05": "échec du règlement",
    "FF01": "format de fichier invalide",
    "FOCR": "retour à la suite d'une demande d'annulation",
    "FRAD": "origine frauduleuse",
    "MD01": "absence de mandat",
    "MD02": "données du mandat manquantes ou incorrectes",
    "MD06": "contestation du débiteur (remboursement demandé)",
    "MD07": "débiteur décédé",
    "MS02": "refus du débiteur",
    "MS03": "raison non précisée",
    "NARR": "motif précisé en texte libre",
    "RC01": "code BIC incorrect",
    "RR01": "compte ou identifiant du débiteur manquant (motif réglementaire)",
    "RR02": "nom ou adresse du débiteur manquant (motif réglementaire)",
    "RR03": "nom ou adresse du créancier manquant (motif réglementaire)",
    "RR04": "motif réglementaire",
    "SL01": "service particulier de la banque du débiteur (liste de blocage ou d'autorisation)",
    "TECH": "problème technique",
}


def reason_label(code: str) -> str:
    """The French label of an ISO reason code; « motif CODE » for a code not in :data:`REASONS`."""
    return REASONS.get(code, f"motif {code}")
