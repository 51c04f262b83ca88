"""CSM declaration gateway: salary declarations and payslip requests in, acknowledgements and documents out."""

__version__ = "0.1.0"
