"""E-mail delivery of extracts: the transactional outbox and its sender (`outbox`).
"""
