"""Signing invitations: one link per signer, the page behind it, reminders to the late."""
