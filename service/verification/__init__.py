"""Public verification: the verifier, revocation, supersession and the published lists
(`verifier`), and masking of names on public pages (`privacy`).
"""
