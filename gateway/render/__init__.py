"""Rendering: values → bytes, no computation. The one package that imports ReportLab.

- :mod:`gateway.render.ack_xml` — the acknowledgement as XML, and its check against acknowledgement-1.xsd
- :mod:`gateway.render.payslip_xml` — the payslip result as XML, and its check against payslip-result-1.xsd
- :mod:`gateway.render.notice_xml` — the correction notice as XML, and its check against correction-notice-1.xsd
- :mod:`gateway.render.xml_check` — the check of a delivered XML document against its XSD, compiled once
- :mod:`gateway.render.ack_pdf` — the acknowledgement as a French PDF
- :mod:`gateway.render.declaration_pdf` — a declaration as the portal's annex PDF
- :mod:`gateway.render.payslip_pdf` — a one-page payslip PDF
- :mod:`gateway.render.notice_pdf` — the correction notice (avis de correction) as a French PDF
- :mod:`gateway.render.csv_out` — CSV for spreadsheets, protected against formula injection
- :mod:`gateway.render.fonts` — what every PDF shares: the fonts and their subsets, page geometry, colours
- :mod:`gateway.render.sheets` — the frequent PDFs drawn straight on the canvas (``Sheet``), with
  :mod:`gateway.render.wrap` (text measured and wrapped) and :mod:`gateway.render.ops` (the canvas operators)
- :mod:`gateway.render.flow` — the rare PDFs laid out with Platypus (styles, safe paragraphs, tables, page frame)

Nothing is imported here, so that producing XML does not load ReportLab.
"""
