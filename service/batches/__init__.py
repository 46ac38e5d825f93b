"""Whole sessions issued as one batch: submission, leases and the local dispatcher
(`queue`), and the Celery tasks (`tasks`).
"""
