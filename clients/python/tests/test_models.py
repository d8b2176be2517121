"""Unit tests that need no server: results, errors and URL handling."""

import json
import unittest

from symbiont import (
    ConflictError,
    Job,
    NotFoundError,
    SymbiontApiError,
    SymbiontClient,
    UnauthorizedError,
    ValidationFailedError,
    WireObject,
)
from symbiont.models import wrap
from symbiont.transport import _error_from, _query_value


class WireObjectTest(unittest.TestCase):
    def test_fields_read_as_attributes_at_every_depth(self):
        job = wrap({"id": "j1", "policy": {"require_approval": True}, "deliveries": [{"channel": "stdout"}]}, Job)
        self.assertIsInstance(job, Job)
        self.assertEqual(job.id, "j1")
        self.assertTrue(job.policy.require_approval)
        self.assertEqual(job.deliveries[0].channel, "stdout")
        self.assertEqual(job["id"], "j1")

    def test_missing_fields_raise_attribute_error_and_objects_are_read_only(self):
        job = wrap({"id": "j1"}, Job)
        with self.assertRaises(AttributeError):
            job.nope
        with self.assertRaises(AttributeError):
            job.id = "other"

    def test_results_stay_plain_json(self):
        runs = wrap([{"id": "r1", "error_message": None}], WireObject)
        self.assertEqual(json.loads(json.dumps(runs)), [{"id": "r1", "error_message": None}])
        self.assertIsNone(runs[0].error_message)


class ErrorTest(unittest.TestCase):
    def test_statuses_map_to_classes(self):
        cases = [(404, NotFoundError), (401, UnauthorizedError), (403, UnauthorizedError), (422, ValidationFailedError), (400, ValidationFailedError), (409, ConflictError), (500, SymbiontApiError)]
        for status, cls in cases:
            error = _error_from(status, json.dumps({"error": {"code": "X", "message": "m"}}), "GET", "/p")
            self.assertIs(type(error), cls, status)
            self.assertEqual((error.status, error.code, error.message, error.field), (status, "X", "m", None))

    def test_field_is_kept_and_non_json_bodies_still_give_typed_errors(self):
        error = _error_from(422, '{"error": {"code": "VALIDATION", "message": "cron_expr: bad", "field": "cron_expr"}}', "POST", "/p")
        self.assertEqual(error.field, "cron_expr")
        plain = _error_from(502, "<html>bad gateway</html>", "GET", "/api/v1/schedule")
        self.assertEqual((plain.code, str(plain)), ("HTTP_502", "GET /api/v1/schedule answered 502"))


class TransportTest(unittest.TestCase):
    def test_query_values(self):
        self.assertEqual(_query_value(["failed", "timed_out"]), "failed,timed_out")
        self.assertEqual(_query_value(5), "5")

    def test_base_url_must_be_http(self):
        with self.assertRaises(ValueError):
            SymbiontClient(base_url="localhost:8080")


if __name__ == "__main__":
    unittest.main()
