"""Local validation before any paid request, in the shape of a model's 422."""

from __future__ import annotations

DEV = "fal-ai/flux/dev"


def queue_calls(server) -> list:
    return [r for r in server.requests if r.role == "queue"]


def test_out_of_range_is_rejected_locally(cli, fal_sandbox_env):
    result = cli("run", DEV, "--prompt", "x", "--num_images", "20")
    assert result.exit_code == 5, result
    err = result.error
    assert err["error"] == "Validation error — num_images: Input should be less than or equal to 4"
    assert err["details"]["validation_errors"] == [
        {
            "field": "num_images",
            "message": "Input should be less than or equal to 4",
            "type": "less_than_equal",
            "input": 20,
        }
    ]
    assert err["details"]["status"] == 422 and err["details"]["error_type"] == "ValidationError"
    assert not queue_calls(fal_sandbox_env) and not fal_sandbox_env.jobs


def test_every_problem_is_reported_at_once(cli, fal_sandbox_env):
    result = cli(
        "run",
        DEV,
        "--qqq_unknown",
        "2",
        "--output_format",
        "gif",
        "--num_inference_steps",
        "abc",
        "--enable_safety_checker",
        "maybe",
    )
    assert result.exit_code == 5, result
    err = result.error
    issues = {i["field"]: i for i in err["details"]["validation_errors"]}
    assert err["error"] == f"Validation error — {len(issues)} problems with the input"
    assert issues["qqq_unknown"]["type"] == "extra_forbidden"
    assert issues["prompt"] == {"field": "prompt", "message": "Field required", "type": "missing"}
    assert issues["output_format"]["message"] == "Input should be 'jpeg' or 'png'"
    assert issues["num_inference_steps"]["type"] == "int_parsing"
    assert issues["enable_safety_checker"]["type"] == "bool_parsing"
    assert not fal_sandbox_env.jobs


def test_nested_objects_are_checked(cli, fal_sandbox_env):
    result = cli("run", DEV, "--prompt", "x", "--image_size", '{"width": "wide", "height": 512}')
    assert result.exit_code == 5, result
    (issue,) = result.error["details"]["validation_errors"]
    assert issue["field"] == "image_size.width" and issue["type"] == "int_parsing"


def test_a_valid_input_passes_and_runs(cli, fal_sandbox_env):
    result = cli("run", DEV, "--prompt", "x", "--num_images", "4", "--seed", "7")
    assert result.exit_code == 0, result
    assert fal_sandbox_env.jobs[0].input == {"prompt": "x", "num_images": 4, "seed": 7}
