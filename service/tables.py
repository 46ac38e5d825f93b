"""Every table of qujat, gathered for Alembic and the schema check.

Each capability keeps its tables in its own `models` module; importing this module
registers all of them on the one shared metadata (`service.core.models.Base.metadata`).
"""

from __future__ import annotations

import service.batches.models
import service.deadlines.models
import service.invitations.models
import service.mail.models
import service.registry.models
import service.signatures.models
import service.verification.models
import service.webhooks.models
from service.core.models import Base

metadata = Base.metadata

__all__ = ["metadata"]
# the imports above are for their side effect: each registers its tables on `metadata`
_CAPABILITIES = (
    service.batches.models,
    service.deadlines.models,
    service.invitations.models,
    service.mail.models,
    service.registry.models,
    service.signatures.models,
    service.verification.models,
    service.webhooks.models,
)
