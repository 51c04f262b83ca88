"""What every reader of an upload shares, below the message modules: the limits, the sniffed file (kind of
bytes, XML root or CSV header), and the refusal of a file as a whole.

The message modules (:mod:`.declaration`, :mod:`.payslip`) and the package's entry point (:func:`read`)
import from here; nothing here imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.codes import MAX_FINDINGS, cap, finding
from gateway.domain import FileFormat, FileKind, Finding, Location, ReadResult
from gateway.formats import csvreader, safexml
from gateway.formats.xmllimits import XmlLimits

if TYPE_CHECKING:
    from lxml import etree

    from gateway.config import IntakeSection


NAMESPACE_PREFIX = "urn:csm-gateway:"


@dataclass(frozen=True)
class Limits:
    """What an uploaded file may not exceed (from ``[intake]`` in the configuration)."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_csv_rows: int = 200_000
    max_field_chars: int = 256
    max_findings: int = MAX_FINDINGS
    xml_max_elements: int = XmlLimits.max_elements
    xml_max_attributes: int = XmlLimits.max_attributes
    xml_max_depth: int = XmlLimits.max_depth
    xml_max_text_chars: int = XmlLimits.max_text_chars

    @classmethod
    def from_config(cls, intake: IntakeSection) -> Limits:
        return cls(
            max_file_bytes=intake.max_file_bytes,
            max_csv_rows=intake.max_csv_rows,
            xml_max_elements=intake.xml_max_elements,
            xml_max_attributes=intake.xml_max_attributes,
            xml_max_depth=intake.xml_max_depth,
            xml_max_text_chars=intake.xml_max_text_chars,
        )

    @property
    def xml(self) -> XmlLimits:
        return XmlLimits(
            self.xml_max_elements, self.xml_max_attributes, self.xml_max_depth, self.xml_max_text_chars
        )


@dataclass(frozen=True)
class Sniff:
    """A file looked at once: its format and, for XML, the parsed root; for CSV, the header's columns."""

    name: str
    data: bytes
    format: FileFormat
    root: etree._Element | None = None
    header: tuple[str, ...] = ()
    warnings: tuple[Finding, ...] = field(default=())

    @property
    def root_tag(self) -> str | None:
        return None if self.root is None else str(self.root.tag)


def refused(
    kind: FileKind | None, findings: list[Finding], total: int | None = None, fmt: FileFormat | None = None
) -> ReadResult:
    """A file refused as a whole: no value, the first findings and their total count."""
    kept, count = cap(findings)
    extra: dict[str, object] = {"format": fmt.value} if fmt else {}
    return ReadResult(
        kind=kind, value=None, findings=kept, total_findings=max(count, total or 0), extra=extra
    )


def too_large(size: int, limits: Limits) -> ReadResult:
    return refused(
        None,
        [
            finding(
                "FILE_TOO_LARGE",
                f"Fichier de {size} octets.",
                Location(),
                f"au plus {limits.max_file_bytes} octets",
            )
        ],
    )


def sniff(data: bytes, name: str, limits: Limits) -> Sniff | ReadResult:
    """Look at the bytes once: a refusal (too large, empty, compressed, not well formed), or a Sniff."""
    if len(data) > limits.max_file_bytes:
        return too_large(len(data), limits)
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        return refused(
            None,
            [
                finding(
                    "FILE_EMPTY",
                    "Le fichier est vide.",
                    Location(line=1),
                    "une déclaration ou une demande de bulletins",
                )
            ],
        )
    kind = safexml.compressed_kind(data)
    if kind:
        return refused(
            None,
            [
                finding(
                    "FILE_COMPRESSED",
                    f"Fichier compressé ({kind}) : envoyez le fichier XML ou CSV lui-même.",
                    Location(line=1, column=1),
                    "XML ou CSV non compressé",
                )
            ],
        )
    if safexml.looks_like_xml(data):
        parsed = safexml.parse(data, limits.xml)
        if isinstance(parsed, list):
            return refused(None, parsed, fmt=FileFormat.XML)
        return Sniff(name, data, FileFormat.XML, root=parsed.root, warnings=parsed.warnings)
    header = csvreader.header_of(data)
    if header is None:
        return refused(
            None,
            [
                finding(
                    "FILE_UNKNOWN_KIND",
                    "Ni XML ni CSV lisible (fichier binaire ?).",
                    Location(line=1),
                    "XML ou CSV en UTF-8",
                )
            ],
        )
    return Sniff(name, data, FileFormat.CSV, header=tuple(header[1]))
