"""fal error bodies → upstream's error object (unit level; the CLI paths are in test_run)."""

from __future__ import annotations

import httpx
import pytest

from genmedia import errors
from genmedia_fal.errors import error_from_response, field_path, format_error


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (["body", "num_images"], "num_images"),
        (["body", "loras", 0, "scale"], "loras[0].scale"),
        (["body"], "body"),
        ([], "body"),
        (["query", "x"], "query.x"),
    ],
)
def test_field_path_rule(loc, path):
    assert field_path(loc) == path


def response(status, body, headers=None):
    return httpx.Response(
        status,
        json=body,
        headers=headers or {},
        request=httpx.Request("GET", "https://queue.fal.run/x"),
    )


def test_422_detail_list():
    detail = [
        {
            "loc": ["body", "num_images"],
            "msg": "Input should be less than or equal to 4",
            "type": "less_than_equal",
            "input": 20,
            "ctx": {"le": 4},
        }
    ]
    exc = error_from_response(response(422, {"detail": detail}, {"x-fal-request-id": "r1"}))
    assert isinstance(exc, errors.ValidationError) and exc.exit_code == 5
    assert exc.message == "Validation error — num_images: Input should be less than or equal to 4"
    assert exc.details["validation_errors"] == [
        {
            "field": "num_images",
            "message": "Input should be less than or equal to 4",
            "type": "less_than_equal",
            "input": 20,
        }
    ]
    assert exc.details["request_id"] == "r1" and exc.details["status"] == 422
    assert exc.details["error_type"] == "ValidationError"
    exc.add_details(endpoint_id="a/b")
    report = format_error(exc)
    assert list(report.details)[:4] == ["endpoint_id", "request_id", "status", "error_type"]


def test_several_problems_and_platform_envelope():
    detail = [{"loc": ["body", "a"], "msg": "x"}, {"loc": ["body", "b"], "message": "y"}]
    exc = error_from_response(response(422, {"detail": detail}))
    assert exc.message == "Validation error — 2 problems with the input"
    exc = error_from_response(response(404, {"error": {"type": "not_found", "message": "Nope"}}))
    assert isinstance(exc, errors.NotFoundError)
    assert exc.message == "Nope" and exc.details["error_type"] == "not_found"


def test_infrastructure_error_type_and_auth_hint():
    exc = error_from_response(
        response(503, {"detail": "No runner", "error_type": "runner_scheduling_failure"})
    )
    assert exc.exit_code == 7 and exc.details["error_type"] == "runner_scheduling_failure"
    exc = error_from_response(response(401, {"detail": "No user found for Key ID and Secret"}))
    assert exc.exit_code == 3 and "genmedia setup" in exc.details["hint"]


def test_non_fal_errors_are_left_to_the_core():
    assert format_error(errors.UsageError("x")) is None
