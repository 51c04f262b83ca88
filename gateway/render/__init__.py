"""Rendering: values → bytes, no computation. The one package that imports ReportLab.

- :mod:`gateway.render.ack_xml` — the acknowledgement as XML, and its check against acknowledgement-1.xsd
- :mod:`gateway.render.payslip_xml` — the payslip result as XML, and its check against payslip-result-1.xsd
- :mod:`gateway.render.xml_check` — the check of a delivered XML document against its XSD, compiled once
- :mod:`gateway.render.ack_pdf` — the acknowledgement as a French PDF
- :mod:`gateway.render.declaration_pdf` — a declaration as the portal's annex PDF
- :mod:`gateway.render.payslip_pdf` — a one-page payslip PDF
- :mod:`gateway.render.csv_out` — CSV for spreadsheets, protected against formula injection
- :mod:`gateway.render.pdf` — the shared PDF toolkit (fonts, styles, escaping, page frame)

Nothing is imported here, so that producing XML does not load ReportLab.
"""
