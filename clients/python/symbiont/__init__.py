"""Python SDK of the symbi scheduler HTTP API (standard library only).

    from symbiont import SymbiontClient
    client = SymbiontClient(base_url="http://localhost:8080", api_key="...")
    health = client.schedule.health()
"""

from .client import ScheduleApi, SymbiontClient
from .errors import (
    ConflictError,
    NotFoundError,
    SymbiontApiError,
    SymbiontError,
    SymbiontNetworkError,
    UnauthorizedError,
    ValidationFailedError,
)
from .models import AuditEvent, Job, NextRun, PruneResult, Run, SchedulerHealth, WireObject

__all__ = [
    "AuditEvent",
    "ConflictError",
    "Job",
    "NextRun",
    "NotFoundError",
    "PruneResult",
    "Run",
    "ScheduleApi",
    "SchedulerHealth",
    "SymbiontApiError",
    "SymbiontClient",
    "SymbiontError",
    "SymbiontNetworkError",
    "UnauthorizedError",
    "ValidationFailedError",
    "WireObject",
]

__version__ = "0.1.0"
