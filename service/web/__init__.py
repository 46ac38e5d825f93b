"""The public HTML pages (`pages`), their texts in Kazakh and Russian (`texts`), and the
rate limit and security headers every public route shares (`protection`).
"""
