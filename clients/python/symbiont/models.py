"""Results of the API: JSON objects whose fields can be read as attributes."""

from __future__ import annotations

from typing import Any, Type, TypeVar


class WireObject(dict):
    """A JSON object from the API, read as ``obj.field`` or ``obj["field"]``.

    Field names are the API's snake_case (``job.next_run``, ``run.error_message``). Nested objects
    are ``WireObject`` too, so ``health.metrics.runs_total`` works. Being a ``dict``, it prints,
    compares and serialises (``json.dumps``) as the plain JSON it came from.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only; use item assignment to change a copy")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"


class Job(WireObject):
    """A scheduled job (secrets show as ``[redacted]``)."""


class Run(WireObject):
    """One run of a job."""


class AuditEvent(WireObject):
    """An audit log entry."""


class SchedulerHealth(WireObject):
    """The scheduler's health: ``status``, ``active_jobs``, ``paused_jobs``, ``in_flight_jobs``, ``metrics``."""


class NextRun(WireObject):
    """A job's next fire time: ``job_id`` and ``next_run``."""


class PruneResult(WireObject):
    """What a history prune did: ``deleted`` (or would delete, with ``dry_run``), ``dry_run``, ``supported``."""


T = TypeVar("T", bound=WireObject)


def wrap(value: Any, cls: Type[WireObject] = WireObject) -> Any:
    """Turns parsed JSON into ``cls`` (top-level objects) and ``WireObject`` (nested ones)."""
    if isinstance(value, dict):
        return cls({key: wrap(item) for key, item in value.items()})
    if isinstance(value, list):
        return [wrap(item, cls) for item in value]
    return value
