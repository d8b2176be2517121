"""Tests against a live server; the vitest runner (packages/client/test/python-sdk.test.ts) starts
one and sets SYMBI_BASE_URL and SYMBI_API_KEY. Its scheduler knows the agents ``ok`` (answers
``fine: <input>``) and ``broken`` (fails with ``no disk``)."""

import os
import time
import unittest
from datetime import datetime, timezone

from symbiont import (
    ConflictError,
    NotFoundError,
    SymbiontClient,
    SymbiontNetworkError,
    UnauthorizedError,
    ValidationFailedError,
)

BASE_URL = os.environ.get("SYMBI_BASE_URL")
TERMINAL = {"succeeded", "failed", "timed_out", "skipped", "denied", "interrupted", "awaiting_approval"}


def settled(client, run_id):
    """Waits for a run to finish (or wait for approval): runs execute on the server's real clock."""
    deadline = time.monotonic() + 10
    while True:
        run = client.schedule.get_run(run_id)
        if run.status in TERMINAL:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run.status}")
        time.sleep(0.01)


@unittest.skipUnless(BASE_URL, "needs a live server: run through vitest (packages/client/test/python-sdk.test.ts)")
class LiveServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = SymbiontClient(base_url=BASE_URL, api_key=os.environ["SYMBI_API_KEY"])

    def test_job_life_cycle(self):
        schedule = self.client.schedule
        job = schedule.create(name="py life/cycle", agent_id="ok", cron_expr="0 0 9 * * *", timezone="Europe/Paris", policy={"max_runtime": "5m"})
        self.assertEqual((job.name, job.agent_id, job.timezone, job.policy.max_runtime), ("py life/cycle", "ok", "Europe/Paris", "5m"))
        self.assertEqual(schedule.get("py life/cycle").id, job.id)
        self.assertEqual(schedule.get_status(job.id).next_run, schedule.next_run(job.id).next_run)
        self.assertIn(job.id, [j.id for j in schedule.list(agent_id="ok", status="active")])
        updated = schedule.update(job.id, cron_expr="0 */30 * * * *", input="default input")
        self.assertEqual((updated.cron_expr, updated.input), ("0 */30 * * * *", "default input"))
        self.assertEqual(schedule.pause(job.id).status, "paused")
        self.assertEqual([j.name for j in schedule.list(status="paused")], ["py life/cycle"])
        self.assertEqual(schedule.resume(job.id).status, "active")
        run = schedule.run_now(job.id, input="now")
        self.assertEqual((run.status, run.input, run.trigger), ("scheduled", "now", "manual"))
        done = settled(self.client, run.id)
        self.assertEqual((done.status, done.output), ("succeeded", "fine: now"))
        default_run = settled(self.client, schedule.run_now(job.id).id)
        self.assertEqual(default_run.output, "fine: default input")
        history = schedule.get_history(job.id, limit=10, since=datetime(2000, 1, 1, tzinfo=timezone.utc))
        self.assertEqual([r.id for r in history], [default_run.id, run.id])
        self.assertEqual([r.id for r in schedule.list_runs(job_id="py life/cycle", status="succeeded")], [default_run.id, run.id])
        self.assertEqual([r.id for r in schedule.list_runs(agent_id="ok", limit=1)], [default_run.id])
        self.assertEqual(schedule.list_runs(agent_id="broken", job_id=job.id), [])
        self.assertEqual([e.type for e in schedule.audit(job_id=job.id, type="CronJobPaused")], ["CronJobPaused"])
        self.assertEqual(schedule.delete(job.id).id, job.id)
        with self.assertRaises(NotFoundError) as caught:
            schedule.get(job.id)
        self.assertEqual(caught.exception.code, "JOB_NOT_FOUND")

    def test_prune_runs(self):
        schedule = self.client.schedule
        job = schedule.create(name="py prune", agent_id="ok", cron_expr="0 0 9 * * *", history_retention_runs=1)
        self.assertEqual(job.history_retention_runs, 1)
        first = settled(self.client, schedule.run_now(job.id).id)
        second = settled(self.client, schedule.run_now(job.id).id)
        counted = schedule.prune_runs(dry_run=True)
        self.assertEqual((counted.deleted, counted.dry_run, counted.supported), (1, True, True))
        self.assertEqual(len(schedule.get_history(job.id)), 2)
        self.assertEqual(schedule.prune_runs().deleted, 1)
        self.assertEqual([r.id for r in schedule.get_history(job.id)], [second.id])
        self.assertNotEqual(first.id, second.id)
        schedule.delete(job.id)

    def test_failed_runs_dead_letter_and_reset(self):
        schedule = self.client.schedule
        job = schedule.create({"name": "py-flaky", "agent_id": "broken", "cron_expr": "@hourly", "max_retries": 1})
        run = settled(self.client, schedule.run_now(job.id).id)
        self.assertEqual(run.status, "failed")
        failures = schedule.get_history(job.id, status="failed", limit=5)
        self.assertEqual([(r.id, r.error_message) for r in failures], [(run.id, "no disk")])
        self.assertEqual(schedule.get_history(job.id, status=["succeeded", "denied"]), [])
        self.assertEqual(schedule.get(job.id).status, "dead_letter")
        self.assertEqual(schedule.reset(job.id).status, "active")
        with self.assertRaises(ConflictError) as caught:
            schedule.reset(job.id)
        self.assertEqual((caught.exception.status, caught.exception.code), (409, "INVALID_STATE"))

    def test_approvals(self):
        schedule = self.client.schedule
        job = schedule.create(name="py-gated", agent_id="ok", cron_expr="@yearly", policy={"require_approval": True, "approver": "ops"})
        first = settled(self.client, schedule.run_now(job.id, input="a").id)
        second = settled(self.client, schedule.run_now(job.id, input="b").id)
        self.assertEqual(first.status, "awaiting_approval")
        self.assertEqual([r.id for r in schedule.approvals(job_id="py-gated")], [first.id, second.id])
        approved = schedule.approve(job.id, first.id, note="looks fine")
        self.assertEqual((approved.approval.decision, approved.approval.decided_by, approved.approval.note), ("approved", "api", "looks fine"))
        self.assertEqual(settled(self.client, first.id).output, "fine: a")
        with self.assertRaises(UnauthorizedError) as caught:
            schedule.deny(job.id, second.id, approver="dana")
        self.assertEqual((caught.exception.status, caught.exception.code), (403, "FORBIDDEN"))
        denied = schedule.deny(job.id, second.id, approver="api")
        self.assertEqual((denied.status, denied.approval.decided_by), ("denied", "api"))
        self.assertEqual(schedule.approvals(job_id=job.id), [])

    def test_errors(self):
        schedule = self.client.schedule
        with self.assertRaises(ValidationFailedError) as caught:
            schedule.create(name="py-bad", agent_id="ok", cron_expr="whenever")
        self.assertEqual((caught.exception.status, caught.exception.field), (422, "cron_expr"))
        with self.assertRaises(ValidationFailedError) as caught:
            schedule.get_history("anything", limit=0)
        self.assertEqual(caught.exception.field, "limit")
        schedule.create(name="py-dup", agent_id="ok", cron_expr="@daily")
        with self.assertRaises(ConflictError):
            schedule.create(name="py-dup", agent_id="ok", cron_expr="@daily")
        with self.assertRaises(NotFoundError):
            schedule.get_run("no-such-run")
        with self.assertRaises(UnauthorizedError) as caught:
            SymbiontClient(base_url=BASE_URL, api_key="wrong").schedule.health()
        self.assertEqual(caught.exception.status, 401)
        with self.assertRaises(SymbiontNetworkError):
            SymbiontClient(base_url="http://127.0.0.1:9", timeout=2).schedule.health()

    def test_health(self):
        health = self.client.schedule.health()
        self.assertEqual(health.status, "healthy")
        self.assertEqual(set(health), {"status", "active_jobs", "paused_jobs", "in_flight_jobs", "metrics"})
        self.assertGreaterEqual(health.metrics.runs_total, 0)


if __name__ == "__main__":
    unittest.main()
