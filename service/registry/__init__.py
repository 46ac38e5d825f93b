"""Issuing documents: registration numbers and the two-transaction issue (`issuing`),
content-addressed storage (`storage`), the hash-chained audit trail (`audit`), issuing
bodies and their API tokens (`tokens`).
"""
