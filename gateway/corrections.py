"""Corrections by the recovery department (Service Recouvrement): a complementary or rectifying declaration
recorded next to the original of an employer and period, with its reason, and its contributions computed.

The file is read and checked like an upload (same formats, same offline rules); it must hold exactly one
declaration, for that employer and period, and an original must exist.
"""

from __future__ import annotations

from pathlib import Path

from gateway import formats
from gateway.domain import DeclarationFile, Period
from gateway.errors import InputError
from gateway.pipeline import Pipeline
from gateway.rules.context import CheckContext

KINDS = ("complementary", "rectifying")


def correct(pipeline: Pipeline, employer: str, period: str, file: Path, kind: str, reason: str) -> str:
    """Record the correction; returns its reference. InputError with the findings when the file is wrong."""
    if kind not in KINDS:
        raise InputError(f"nature inconnue {kind!r} (complementary ou rectifying)")
    if not reason.strip():
        raise InputError("le motif de la correction est obligatoire")
    Period.parse(period)
    original = pipeline.intake.original_of(employer, period)
    if original is None:
        raise InputError(f"aucune déclaration originale de l'employeur {employer} pour {period}: rien à corriger")
    result = formats.read(file.read_bytes(), file.name, pipeline.limits)
    if result.value is None or not isinstance(result.value, DeclarationFile):
        raise InputError("fichier refusé: " + "; ".join(f"{f.code} {f.message}" for f in result.findings[:5]))
    decls = result.value.declarations
    if len(decls) != 1 or decls[0].employer != employer or str(decls[0].period) != period:
        raise InputError(f"le fichier doit contenir exactement une déclaration de l'employeur {employer} pour {period}")
    context = CheckContext.from_config(pipeline.config, pipeline.clock.today())
    errors = [f for v in formats.check(result, context, None) for f in v.findings if f.is_error]
    contributions = pipeline._contributions(decls[0])
    errors += [f for f in contributions.findings if f.is_error]
    if errors:
        raise InputError("déclaration refusée: " + "; ".join(f"{f.code} {f.message}" for f in errors[:5]))
    number = pipeline.intake.corrections_count(original.id) + 1
    reference = f"{original.reference}-C{number}"
    now = pipeline.clock.now()
    decl_id = pipeline.intake.record_declaration(
        file_id=None, reference=reference, decl=decls[0], late=False, received_at=now, recorded_at=now,
        kind=kind, corrects_id=original.id, reason=reason.strip())
    assert decl_id is not None
    pipeline.intake.save_contributions(decl_id, contributions, now)
    return reference
