"""The machine-readable payslip (``urn:csm-gateway:payslip-result:1``): the same figures as the PDF.

Built from :func:`gateway.rules.payslip.payslip_as_dict` so that the PDF and the XML can never disagree
on a figure. Deterministic: the same payslip gives the same bytes.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

NS = "urn:csm-gateway:payslip-result:1"


def _add(parent: etree._Element, name: str, value: Any) -> None:
    tag = f"{{{NS}}}{name.replace('_', '-')}"
    if value is None:
        return
    if isinstance(value, dict):
        child = etree.SubElement(parent, tag)
        for key, sub in value.items():
            _add(child, key, sub)
    elif isinstance(value, list):
        container = etree.SubElement(parent, tag)
        item_name = {"earnings": "line", "non_subject": "line", "contributions": "contribution",
                     "overtime_hours": "overtime", "notes": "note", "findings": "finding",
                     "components": "component"}.get(name, "item")
        for sub in value:
            _add(container, item_name, sub)
    elif isinstance(value, bool):
        etree.SubElement(parent, tag).text = "true" if value else "false"
    else:
        etree.SubElement(parent, tag).text = str(value)


def render_payslip_xml(payslip: Any, *, reference: str, test: bool) -> bytes:
    from gateway.rules.payslip import payslip_as_dict

    root = etree.Element(f"{{{NS}}}payslip", nsmap={None: NS})
    root.set("reference", reference)
    root.set("test", "true" if test else "false")
    for key, value in payslip_as_dict(payslip).items():
        _add(root, key, value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
