"""The registry of finding codes: every code the formats and rules can report, its severity and title.

Codes are part of the interchange contract (``docs/errors.md`` documents each one; a test keeps the
two in step and checks every code is exercised by a test). A code never changes meaning; a new case
gets a new code. Families: ``FILE_`` (before the format is known), ``XML_``, ``CSV_``, ``DECL_``
(declaration rules), ``PAYSLIP_`` (payslip request rules).
"""

from __future__ import annotations

from gateway.domain import NOWHERE, Finding, Location, Severity

E = Severity.ERROR
W = Severity.WARNING

CODES: dict[str, tuple[Severity, str]] = {
    # The file as a whole, before its format is known.
    "FILE_TOO_LARGE": (E, "Fichier trop volumineux"),
    "FILE_EMPTY": (E, "Fichier vide"),
    "FILE_COMPRESSED": (E, "Fichier compressé ou archive"),
    "FILE_UNKNOWN_KIND": (E, "Type de fichier inconnu"),
    "FILE_AMBIGUOUS_KIND": (E, "Type de fichier ambigu"),
    "FILE_UNSUPPORTED_VERSION": (E, "Version de format non prise en charge"),
    # XML.
    "XML_NOT_WELL_FORMED": (E, "XML mal formé"),
    "XML_DOCTYPE_FORBIDDEN": (E, "Déclaration DOCTYPE interdite"),
    "XML_ENCODING_UNSUPPORTED": (E, "Encodage non pris en charge"),
    "XML_ENCODING_INVALID": (E, "Octets invalides pour l'encodage UTF-8"),
    "XML_NUL_BYTE": (E, "Octet nul dans le fichier"),
    "XML_LIMIT_EXCEEDED": (E, "Limite de profondeur ou de taille de texte dépassée"),
    "XML_TOO_MANY_ELEMENTS": (E, "Trop d'éléments dans le fichier"),
    "XML_TOO_MANY_ATTRIBUTES": (E, "Trop d'attributs sur un élément"),
    "XML_XINCLUDE_FORBIDDEN": (E, "XInclude interdit"),
    "XML_PI_IGNORED": (W, "Instruction de traitement ignorée"),
    "XML_SCHEMA": (E, "Non conforme au schéma XSD"),
    # CSV.
    "CSV_ENCODING_INVALID": (E, "Octets invalides pour l'encodage UTF-8"),
    "CSV_CONTROL_CHARACTER": (E, "Caractère de contrôle interdit"),
    "CSV_SYNTAX": (E, "Syntaxe CSV invalide"),
    "CSV_FIELD_TOO_LONG": (E, "Champ trop long"),
    "CSV_TOO_MANY_ROWS": (E, "Trop de lignes"),
    "CSV_NO_ROWS": (E, "Aucune ligne de données"),
    "CSV_COLUMN_MISSING": (E, "Colonne obligatoire absente"),
    "CSV_COLUMN_DUPLICATE": (E, "Colonne en double"),
    "CSV_COLUMN_UNKNOWN": (E, "Colonne inconnue"),
    "CSV_FIELD_COUNT": (E, "Nombre de champs incorrect"),
    "CSV_VALUE_REQUIRED": (E, "Valeur obligatoire absente"),
    "CSV_VALUE_NOT_ALLOWED": (E, "Valeur non permise ici"),
    "CSV_NUMBER_INVALID": (E, "Nombre invalide"),
    "CSV_VALUE_OUT_OF_RANGE": (E, "Valeur hors limites"),
    "CSV_DATE_INVALID": (E, "Date invalide"),
    "CSV_PERIOD_INVALID": (E, "Période invalide"),
    "CSV_BOOLEAN_INVALID": (E, "Valeur oui/non invalide"),
    "CSV_IDENTIFIER_INVALID": (E, "Numéro d'identification invalide"),
    "CSV_NAME_INVALID": (E, "Nom ou libellé invalide"),
    "CSV_CODE_INVALID": (E, "Code inconnu"),
    "CSV_CONTINUATION_ORPHAN": (E, "Ligne de continuation sans ligne principale"),
    # Declaration rules.
    "DECL_EMPLOYER_NOT_ASSIGNED": (E, "Employeur non autorisé pour cet abonné"),
    "DECL_PERIOD_NOT_OPEN": (E, "Période pas encore ouverte"),
    "DECL_PERIOD_ALREADY_DECLARED": (E, "Période déjà déclarée"),
    "DECL_DUPLICATE_IN_FILE": (E, "Déclaration en double dans le fichier"),
    "DECL_DUPLICATE_EMPLOYEE": (E, "Salarié en double dans la déclaration"),
    "DECL_IDENTITY_MISSING": (E, "Identité incomplète d'un nouveau salarié"),
    "DECL_REGISTRATION_UNKNOWN": (E, "Matricule inconnu"),
    "DECL_NAME_MISMATCH": (E, "Nom différent de celui enregistré"),
    "DECL_BIRTH_DATE_MISMATCH": (E, "Date de naissance différente de celle enregistrée"),
    "DECL_AGE_IMPLAUSIBLE": (E, "Âge invraisemblable"),
    "DECL_EVENT_DATE_MISSING": (E, "Date d'événement manquante"),
    "DECL_EVENT_DATE_NOT_ALLOWED": (E, "Date d'événement non permise"),
    "DECL_EVENT_END_BEFORE_START": (E, "Fin d'événement avant son début"),
    "DECL_EVENT_OUTSIDE_PERIOD": (E, "Événement hors de la période"),
    "DECL_EVENT_HOURS_NOT_ALLOWED": (E, "Heures non permises pour cet événement"),
    "DECL_HIRE_ALREADY_EMPLOYED": (E, "Embauche d'un salarié déjà employé"),
    "DECL_DEPARTURE_NOT_EMPLOYED": (E, "Départ d'un salarié non employé"),
    "DECL_TOTALS_MISMATCH": (E, "Totaux différents des lignes"),
    "DECL_LATE": (W, "Déclaration en retard"),
    # Payslip request rules.
    "PAYSLIP_EMPLOYER_NOT_ASSIGNED": (E, "Employeur non autorisé pour cet abonné"),
    "PAYSLIP_REGISTRATION_UNKNOWN": (E, "Matricule inconnu"),
    "PAYSLIP_NOT_IN_WORKFORCE": (E, "Salarié absent de l'effectif"),
    "PAYSLIP_DUPLICATE": (E, "Bulletin demandé deux fois"),
    "PAYSLIP_OVERTIME_RATE": (E, "Taux de majoration inconnu"),
    "PAYSLIP_NEGATIVE_GROSS": (E, "Salaire brut négatif"),
    "PAY_BELOW_MINIMUM": (W, "Taux horaire inférieur au minimum"),
    # Rates (contributions and payslips).
    "RATE_MISSING": (E, "Aucun taux en vigueur"),
    "RATE_UNCONFIRMED": (W, "Taux non confirmé utilisé"),
    "RATE_STALE": (W, "Taux à revérifier"),
    # The sender and the gateway itself.
    "SUBSCRIBER_EMAIL_UNVERIFIED": (E, "Adresse e-mail de l'abonné non validée"),
    "SUBSCRIBER_EMAIL_CODE_REJECTED": (E, "Code de validation de l'adresse e-mail refusé"),
    "TECHNICAL_ERROR": (E, "Erreur technique"),
    "FILE_RESOURCE_LIMIT": (E, "Fichier trop coûteux à traiter"),
}

MAX_FINDINGS = 100  # kept per file (and per declaration); the total is counted separately


def severity_of(code: str) -> Severity:
    return CODES[code][0]


def finding(code: str, message: str, location: Location = NOWHERE, expected: str | None = None) -> Finding:
    """A finding with the registered severity; an unregistered code is a bug, caught here."""
    severity, _title = CODES[code]
    return Finding(code=code, message=message, severity=severity, location=location, expected=expected)


def cap(findings: list[Finding], limit: int = MAX_FINDINGS) -> tuple[tuple[Finding, ...], int]:
    """The first ``limit`` findings and the total count."""
    return tuple(findings[:limit]), len(findings)
