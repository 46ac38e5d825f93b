"""Per-member signatures: commissions and quorum (`commissions`), receiving and checking
each signer's CMS against the frozen bytes (`intake`), and the signature report (`report`).
"""
