"""Webhooks: a platform's endpoints, the deliveries queued with the events, their sender."""
