"""The OpenAPI document resolves on its own, and its bundled schemas judge like schemas/*.json.

Standard tools (generators, Schemathesis, editors) resolve only references inside the
document, so every `$ref` must be a local `#/…` pointer that exists, and no schema may carry
an `$id` (it would move the base that `#/components/…` is resolved against). The bundled
schemas must accept and refuse exactly what the versioned files in schemas/ do: checked on
every example and on a family of broken variants of each.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import schemathesis
from referencing import Registry, Resource

from service.api.openapi import build_openapi
from service.forms.decisions import SCHEMA_DIR, schema_of
from service.forms.vocabulary import Form

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


def _resolve(document: Any, pointer: str) -> Any:
    node = document
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def test_every_reference_is_local_and_resolves() -> None:
    document = build_openapi()
    refs = [(path, node["$ref"]) for path, node in _walk(document)
            if isinstance(node, dict) and isinstance(node.get("$ref"), str)]
    assert len(refs) > 50
    for path, ref in refs:
        assert ref.startswith("#/"), (path, ref)
        _resolve(document, ref[1:])  # KeyError names the missing target
    assert not [path for path, node in _walk(document)
                if isinstance(node, dict) and ("$id" in node or "$schema" in node)]


def test_document_is_valid_openapi_3_1() -> None:
    """Checked against the OpenAPI 3.1 meta-schema, as Schemathesis loads it."""
    schemathesis.openapi.from_dict(build_openapi()).validate()


def test_create_commission_refers_to_the_commission_schema() -> None:
    document = build_openapi()
    body = document["paths"]["/api/v1/commissions"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    assert _resolve(document, ref[1:])["title"] == schema_of("commission")["title"]


# --------------------------------------------------------------------------- equivalence


def _file_validator(name: str) -> jsonschema.protocols.Validator:
    resources = [
        (contents["$id"], Resource.from_contents(contents))
        for contents in (json.loads(p.read_text("utf-8"))
                         for p in sorted(SCHEMA_DIR.glob("*.v1.schema.json")))
    ]
    schema = schema_of(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=Registry().with_resources(resources),
               format_checker=cls.FORMAT_CHECKER)


def _bundled_validator(name: str) -> jsonschema.protocols.Validator:
    """The component as a standard tool sees it: the document is the only resource."""
    document = build_openapi()
    root = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    cls = jsonschema.Draft202012Validator
    cls.check_schema(root)
    return cls(root, format_checker=cls.FORMAT_CHECKER)


_REPLACEMENTS: tuple[Any, ...] = (None, 0, "", " ", "\u202eevil", "2026-02-30", "A" * 301, [])


def _variants(body: Any) -> Iterator[Any]:
    """The body, and for every node: removed, replaced by each of _REPLACEMENTS, or given an
    unknown sibling field."""
    yield body
    for path, node in list(_walk(body)):
        if not path:
            continue
        parent_path, _, key = path.rpartition("/")
        for replacement in (*_REPLACEMENTS, "__delete__"):
            variant = copy.deepcopy(body)
            parent = _resolve(variant, parent_path) if parent_path else variant
            index: Any = int(key) if isinstance(parent, list) else key
            if replacement == "__delete__":
                del parent[index]
            else:
                parent[index] = copy.deepcopy(replacement)
            yield variant
        if isinstance(node, dict):
            variant = copy.deepcopy(body)
            _resolve(variant, path)["surplus"] = "x"
            yield variant


def _bodies() -> Iterator[tuple[str, Any]]:
    for form in Form:
        for language in ("kk", "ru"):
            request = json.loads((EXAMPLES / f"{form.value}.{language}.json").read_text("utf-8"))
            yield form.value, request["decision"]
            yield "request", request
    yield "commission", json.loads((EXAMPLES / "commission.json").read_text("utf-8"))


@pytest.mark.parametrize("name", [*(f.value for f in Form), "request", "commission"])
def test_bundled_schema_accepts_and_refuses_what_the_file_does(name: str) -> None:
    from_file, bundled = _file_validator(name), _bundled_validator(name)
    judged = refused = 0
    for body_name, body in _bodies():
        if body_name != name:
            continue
        for variant in _variants(body):
            expected = from_file.is_valid(variant)
            assert bundled.is_valid(variant) == expected, json.dumps(variant)[:500]
            judged += 1
            refused += not expected
    assert judged > 100
    assert 0 < refused < judged


def test_render_request_narrows_the_decision_to_the_form() -> None:
    document = build_openapi()
    render_request = document["components"]["schemas"]["RenderRequest"]
    assert render_request["properties"] == schema_of("request")["properties"]
    branches = render_request["oneOf"]
    assert {b["properties"]["form"]["const"] for b in branches} == {f.value for f in Form}
    for branch in branches:
        ref = branch["properties"]["decision"]["$ref"]
        assert ref == f"#/components/schemas/{branch['properties']['form']['const']}"


def test_links_lead_to_operations_that_take_the_linked_id() -> None:
    document = build_openapi()
    operations = {op["operationId"]: op for item in document["paths"].values()
                  for op in item.values()}
    links = [(op_id, link) for op_id, op in operations.items()
             for response in op["responses"].values()
             for link in response.get("links", {}).values()]
    assert {op_id for op_id, _ in links} >= {
        "issueDocument", "createCommission", "createProtocol", "submitBatch"}
    for source, link in links:
        target = operations[link["operationId"]]
        path_parameters = {p["name"] for p in target["parameters"] if p["in"] == "path"}
        assert set(link["parameters"]) == path_parameters == {"id"}, (source, link)


def test_every_operation_documents_its_refusals_as_problems() -> None:
    document = build_openapi()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            protected = operation.get("security") != []
            statuses = set(operation["responses"])
            assert not protected or "401" in statuses, (method, path)
            assert "{id}" not in path or "404" in statuses, (method, path)
            if "requestBody" in operation and "application/json" in operation[
                    "requestBody"]["content"]:
                assert {"400", "413", "415", "422"} <= statuses, (method, path)
            for status, response in operation["responses"].items():
                if status >= "400":
                    schema = response["content"]["application/problem+json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Problem"}
