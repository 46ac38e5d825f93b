"""The appendix forms: decisions and the act's rules on them (`decisions`), their vocabulary,
legal-style dates, identifiers (IIN) and rendering to PDF and DOCX (`rendering`).
"""
