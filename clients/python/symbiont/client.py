"""SymbiontClient and its schedule API."""

from __future__ import annotations

import urllib.parse
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence, Union

from .models import AuditEvent, Job, NextRun, PruneResult, Run, SchedulerHealth, wrap
from .transport import Transport

Since = Union[datetime, str, None]
Statuses = Union[str, Sequence[str], None]


def _segment(value: str) -> str:
    return urllib.parse.quote(str(value), safe="")


def _job_path(job_id: str, suffix: str = "") -> str:
    return f"/api/v1/schedule/{_segment(job_id)}{suffix}"


class ScheduleApi:
    """Jobs, runs, approvals, audit and health. A ``job_id`` may also be a job name.

    Field names are the API's snake_case, as keyword arguments and on results.
    """

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    def create(self, spec: Optional[Dict[str, Any]] = None, **fields: Any) -> Job:
        """Creates a job: ``create(name=..., agent_id=..., cron_expr=...)`` or ``create({...})``."""
        return wrap(self._http.request("POST", "/api/v1/schedule", body={**(spec or {}), **fields}), Job)

    def list(self, status: Optional[str] = None, agent_id: Optional[str] = None, limit: Optional[int] = None, offset: Optional[int] = None) -> List[Job]:
        """Jobs ordered by name, optionally filtered by status and agent."""
        query = {"status": status, "agent_id": agent_id, "limit": limit, "offset": offset}
        return wrap(self._http.request("GET", "/api/v1/schedule", query=query), Job)

    def get(self, job_id: str) -> Job:
        """A job with its status and ``next_run``."""
        return wrap(self._http.request("GET", _job_path(job_id)), Job)

    def get_status(self, job_id: str) -> Job:
        """Same as :meth:`get` (the CLI's ``symbi cron status``)."""
        return self.get(job_id)

    def update(self, job_id: str, changes: Optional[Dict[str, Any]] = None, **fields: Any) -> Job:
        """Changes some fields: ``update(job_id, cron_expr='0 */30 * * * *')``."""
        return wrap(self._http.request("PUT", _job_path(job_id), body={**(changes or {}), **fields}), Job)

    def delete(self, job_id: str) -> Job:
        """Deletes a job with its history; returns the deleted job."""
        return wrap(self._http.request("DELETE", _job_path(job_id)), Job)

    def run_now(self, job_id: str, input: Optional[str] = None) -> Run:
        """Queues a run now (policy gates still apply); returns the queued run."""
        body = {} if input is None else {"input": input}
        return wrap(self._http.request("POST", _job_path(job_id, "/run"), body=body), Run)

    def pause(self, job_id: str) -> Job:
        """Pauses an active job."""
        return wrap(self._http.request("POST", _job_path(job_id, "/pause")), Job)

    def resume(self, job_id: str) -> Job:
        """Resumes a paused job."""
        return wrap(self._http.request("POST", _job_path(job_id, "/resume")), Job)

    def reset(self, job_id: str) -> Job:
        """Reactivates a dead-lettered or failed job."""
        return wrap(self._http.request("POST", _job_path(job_id, "/reset")), Job)

    def get_history(self, job_id: str, status: Statuses = None, limit: Optional[int] = None, since: Since = None) -> List[Run]:
        """A job's runs, newest first; ``status`` may be one status or several."""
        query = {"status": status, "limit": limit, "since": since}
        return wrap(self._http.request("GET", _job_path(job_id, "/history"), query=query), Run)

    def list_runs(self, job_id: Optional[str] = None, agent_id: Optional[str] = None, status: Statuses = None, limit: Optional[int] = None, since: Since = None) -> List[Run]:
        """Runs of every job, newest first, optionally only one job's (id or name) or one agent's."""
        query = {"job_id": job_id, "agent_id": agent_id, "status": status, "limit": limit, "since": since}
        return wrap(self._http.request("GET", "/api/v1/runs", query=query), Run)

    def prune_runs(self, dry_run: bool = False) -> PruneResult:
        """Deletes finished runs past their retention (``history_retention_days`` / ``_runs``, each
        job's own first); needs an operator key. With ``dry_run``, only counts what would go."""
        return wrap(self._http.request("POST", "/api/v1/runs/prune", body={"dry_run": dry_run}), PruneResult)

    def next_run(self, job_id: str) -> NextRun:
        """A job's next fire time."""
        return wrap(self._http.request("GET", _job_path(job_id, "/next_run")), NextRun)

    def get_run(self, run_id: str) -> Run:
        """A run by id."""
        return wrap(self._http.request("GET", f"/api/v1/runs/{_segment(run_id)}"), Run)

    def approvals(self, job_id: Optional[str] = None, limit: Optional[int] = None) -> List[Run]:
        """Runs waiting for approval, oldest first."""
        return wrap(self._http.request("GET", "/api/v1/approvals", query={"job_id": job_id, "limit": limit}), Run)

    def approve(self, job_id: str, run_id: str, approver: Optional[str] = None, note: Optional[str] = None) -> Run:
        """Approves a run waiting for approval. The server records the API key's label as the approver;
        an ``approver`` other than that label is refused (403)."""
        return self._decide("approve", job_id, run_id, approver, note)

    def deny(self, job_id: str, run_id: str, approver: Optional[str] = None, note: Optional[str] = None) -> Run:
        """Denies a run waiting for approval; it ends ``denied``."""
        return self._decide("deny", job_id, run_id, approver, note)

    def audit(self, type: Optional[str] = None, job_id: Optional[str] = None, since: Since = None, limit: Optional[int] = None) -> List[AuditEvent]:
        """Audit events, newest first (``type`` such as ``CronJobFailed``)."""
        query = {"type": type, "job_id": job_id, "since": since, "limit": limit}
        return wrap(self._http.request("GET", "/api/v1/audit", query=query), AuditEvent)

    def health(self) -> SchedulerHealth:
        """The scheduler's health JSON."""
        return wrap(self._http.request("GET", "/api/v1/health/scheduler"), SchedulerHealth)

    def _decide(self, decision: str, job_id: str, run_id: str, approver: Optional[str], note: Optional[str]) -> Run:
        body = {key: value for key, value in (("approver", approver), ("note", note)) if value is not None}
        path = _job_path(job_id, f"/runs/{_segment(run_id)}/{decision}")
        return wrap(self._http.request("POST", path, body=body), Run)


class SymbiontClient:
    """Client of the symbi scheduler HTTP API, using only the standard library.

    Example::

        client = SymbiontClient(base_url="http://localhost:8080", api_key=os.environ["SYMBI_API_KEY"])
        job = client.schedule.create(name="hourly-metrics", agent_id="metrics-agent", cron_expr="0 0 * * * *")
        print(client.schedule.get(job.id).next_run)
    """

    def __init__(self, base_url: str = "http://localhost:8080", api_key: Optional[str] = None, timeout: float = 30.0) -> None:
        self.schedule = ScheduleApi(Transport(base_url, api_key, timeout))
