"""Every 404 and 405 under /api/ is problem+json, whichever part of the path is wrong."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient


@pytest.mark.parametrize("path", [
    "/api/v1/documents/not-a-uuid",
    "/api/v1/documents/not-a-uuid.pdf",
    "/api/v1/documents/not-a-uuid/signing",
    "/api/v1/batches/42",
    "/api/v1/nothing-here",
    "/api/v2/documents",
])
def test_a_path_that_names_nothing_is_a_problem(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Accept-Language": "ru"})
    assert response.status_code == 404, response.get_data()
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 404
    assert problem["instance"] == path
    assert problem["errors"][0]["code"] == "not_found"
    assert problem["errors"][0]["reason"] == "По этому адресу ничего нет."


def test_a_method_a_path_does_not_take_is_a_problem_naming_the_allowed_ones(
    client: FlaskClient,
) -> None:
    response = client.delete("/api/v1/documents")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert response.headers["Allow"] == "OPTIONS, POST"
    assert response.get_json()["errors"][0]["code"] == "method_not_allowed"
