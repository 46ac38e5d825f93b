"""The templates against their schemas: every variable a form prints is a field of the form's
schema (or `document`, or a property such as `full_name`), every required field is printed,
the IIN never is, and the committed .docx files are what scripts/build_docx_templates.py
builds."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import io
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from docxtpl import DocxTemplate
from jinja2 import Environment, nodes

from service.forms.decisions import DECISION_TYPES, schema_of
from service.forms.rendering import (
    SHARED_DIR,
    DocxEnvironment,
    PrintedDocument,
    PrintedDocxDocument,
    html_environment,
    template_dir,
)
from service.forms.vocabulary import LANGUAGES, Form

ROOT = Path(__file__).resolve().parents[2]
FORMS = list(Form)
CASES = [
    pytest.param(form, lang, id=f"{form.value}-{lang}") for form in FORMS for lang in LANGUAGES
]

# what a template may ask of an object beyond its schema's fields, and the fields it reads
PROPERTIES = {"full_name": ("surname", "given_name", "patronymic")}
DOCUMENT_FIELDS = {
    "html": {f.name for f in dataclasses.fields(PrintedDocument)},
    "docx": {f.name for f in dataclasses.fields(PrintedDocxDocument)},
}


# --------------------------------------------------------------------------- schemas


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow `$ref`s and merge `anyOf` alternatives. Only common.v1.schema.json has $defs,
    so a local reference (`#/$defs/…`) is one of its own."""
    while "$ref" in schema:
        document, _, pointer = schema["$ref"].partition("#")
        target: Any = schema_of(document.removesuffix(".v1.schema.json") or "common")
        for part in pointer.strip("/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    if "anyOf" in schema:
        merged: dict[str, Any] = {}
        for option in schema["anyOf"]:
            merged.update(_resolve(option))
        return merged
    return schema


def _field(schema: Mapping[str, Any], path: list[str]) -> Mapping[str, Any] | None:
    """The schema of `path` (segments; `x[]` for the items of array x), None if none."""
    schema = _resolve(schema)
    for segment in path:
        name, is_item = segment.removesuffix("[]"), segment.endswith("[]")
        properties = schema.get("properties", {})
        if name not in properties:
            return None
        schema = _resolve(properties[name])
        if is_item:
            if schema.get("type") != "array":
                return None
            schema = _resolve(schema["items"])
    return schema


def _required_paths(schema: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    schema = _resolve(schema)
    for name in schema.get("required", []):
        child = _resolve(schema["properties"][name])
        path = f"{prefix}{name}"
        yield path
        if child.get("type") == "array" and _resolve(child["items"]).get("type") == "object":
            yield from _required_paths(child["items"], f"{path}[].")
        elif child.get("type") == "object":
            yield from _required_paths(child, f"{path}.")


# --------------------------------------------------------------------------- template variables


@dataclasses.dataclass(frozen=True)
class Defined:
    """A macro, and the names its body calls other macros by (its template's macros)."""

    macro: nodes.Macro
    namespace: dict[str, Defined]


class Usage:
    """Walks a Jinja AST and records every value path the template reads, loop variables
    resolved to the items they iterate (`row` in `table(...)` → `rows[]`).

    A call of a macro — the template's own, or one imported with `{% from … import … %}`
    (given `env` to load it) — also walks the macro's body with its parameters bound to
    the call's arguments, so a value a shared macro prints counts for the form passing it;
    an `if` on a parameter the call fixes to a constant (`attestation=true`) follows the
    branch that constant takes, every other `if` all its branches.
    """

    def __init__(self, methods: Mapping[str, str], env: Environment | None = None) -> None:
        self.methods = methods  # decision method → the array it returns items of
        self.env = env
        self.paths: set[str] = set()
        self.macros: dict[str, Defined] = {}  # the macros callable where the walk is
        self._modules: dict[str, dict[str, Defined]] = {}
        self._calling: list[nodes.Macro] = []
        self.constants: dict[str, Any] = {}  # macro parameters the call fixed to a constant

    def visit(self, node: nodes.Node, scope: Mapping[str, str | None]) -> None:
        match node:
            case nodes.For():
                self.visit(node.iter, scope)
                items = self.path_of(node.iter, scope)
                inner = dict(scope, loop=None)
                for target in _names(node.target):
                    inner[target] = f"{items}[]" if items else None
                for child in [*node.body, *node.else_, *([node.test] if node.test else [])]:
                    self.visit(child, inner)
            case nodes.Macro():
                self.macros[node.name] = Defined(node, self.macros)
                inner = dict(scope, **{arg.name: None for arg in node.args})
                for child in node.body:
                    self.visit(child, inner)
            case nodes.FromImport():
                self.macros.update(self._imported(node))
            case nodes.If():
                for test, body in [(node.test, node.body), *((e.test, e.body) for e in node.elif_)]:
                    self.visit(test, scope)
                    taken = self._decided(test)
                    if taken is not False:
                        for child in body:
                            self.visit(child, scope)
                    if taken is True:
                        break
                else:
                    for child in node.else_:
                        self.visit(child, scope)
            case nodes.CallBlock():
                # {% call(value) m(…) %}…{% endcall %}: the body is `caller`, its arguments
                # locals; the call itself is an ordinary macro call
                inner = dict(scope, **{arg.name: None for arg in node.args})
                for child in node.body:
                    self.visit(child, inner)
                self.visit(node.call, scope)
            case nodes.Assign():
                self.visit(node.node, scope)
                for target in _names(node.target):
                    scope = dict(scope, **{target: None})
            case nodes.Call() if isinstance(node.node, nodes.Name):
                path = self.path_of(node.node, scope)
                if path in self.methods:
                    self.paths.update({self.methods[path], f"{self.methods[path]}[].outcome"})
                for child in [*node.args, *(k.value for k in node.kwargs)]:
                    self.visit(child, scope)
                defined = self.macros.get(node.node.name)
                if defined is not None and node.node.name not in scope:
                    self._call(defined, node, scope)
            case nodes.Getattr() | nodes.Name():
                path = self.path_of(node, scope)
                if path is not None and path not in self.methods:
                    self.paths.add(path)
            case _:
                for child in node.iter_child_nodes():
                    self.visit(child, scope)

    def _call(self, defined: Defined, call: nodes.Call, scope: Mapping[str, str | None]) -> None:
        """Walk a macro's body, its parameters standing for what the call passes."""
        macro = defined.macro
        if macro in self._calling:
            return
        inner: dict[str, str | None] = {"caller": None, "varargs": None, "kwargs": None}
        inner.update({arg.name: None for arg in macro.args})
        values: dict[str, nodes.Expr] = dict(
            zip(
                [a.name for a in macro.args[len(macro.args) - len(macro.defaults) :]],
                macro.defaults,
                strict=True,
            )
        )
        values.update({arg.name: value for arg, value in zip(macro.args, call.args, strict=False)})
        values.update({k.key: k.value for k in call.kwargs if k.key in inner})
        for name, value in values.items():
            inner[name] = self.path_of(value, scope)
        constants = {n: v.value for n, v in values.items() if isinstance(v, nodes.Const)}
        outer = self.macros, self.constants
        self.macros, self.constants = defined.namespace, constants
        self._calling.append(macro)
        try:
            for child in macro.body:
                self.visit(child, inner)
        finally:
            self._calling.pop()
            self.macros, self.constants = outer

    def _decided(self, test: nodes.Expr) -> bool | None:
        """Whether an `if` test holds, when it only reads constants; None when unknown."""
        known, value = self._value(test)
        return bool(value) if known else None

    def _value(self, node: nodes.Expr) -> tuple[bool, Any]:
        match node:
            case nodes.Const():
                return True, node.value
            case nodes.Name() if node.name in self.constants:
                return True, self.constants[node.name]
            case nodes.Not():
                known, value = self._value(node.node)
                return known, not value
            case nodes.Compare() if len(node.ops) == 1 and node.ops[0].op in ("eq", "ne"):
                (left_known, left), (right_known, right) = (
                    self._value(node.expr),
                    self._value(node.ops[0].expr),
                )
                if left_known and right_known:
                    return True, (left == right) == (node.ops[0].op == "eq")
        return False, None

    def _imported(self, node: nodes.FromImport) -> dict[str, Defined]:
        """The macros a `{% from … import … %}` brings in, under the names it gives them."""
        if self.env is None or not isinstance(node.template, nodes.Const):
            return {}
        module = self._module(node.template.value)
        imported = {}
        for name in node.names:
            name, alias = name if isinstance(name, tuple) else (name, name)
            if name in module:
                imported[alias] = module[name]
        return imported

    def _module(self, name: str) -> dict[str, Defined]:
        """A template's top-level macros (and its own imports), as an import sees them."""
        if name not in self._modules:
            assert self.env is not None
            assert self.env.loader is not None
            source = self.env.loader.get_source(self.env, name)[0]
            namespace = self._modules[name] = {}
            for node in self.env.parse(source).body:
                if isinstance(node, nodes.FromImport):
                    namespace.update(self._imported(node))
                elif isinstance(node, nodes.Macro):
                    namespace[node.name] = Defined(node, namespace)
        return self._modules[name]

    def path_of(self, node: nodes.Node, scope: Mapping[str, str | None]) -> str | None:
        """`a.b.c` for an attribute chain on a context variable; None for locals."""
        attributes: list[str] = []
        while isinstance(node, nodes.Getattr):
            attributes.insert(0, node.attr)
            node = node.node
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name):
            base = self.path_of(node.node, scope)
            base = self.methods.get(base or "")
        elif isinstance(node, nodes.Name):
            base = scope.get(node.name, node.name)
        else:
            return None
        if base is None:
            return None
        return ".".join([base, *attributes])

    def walk(self, ast: nodes.Template) -> set[str]:
        for child in ast.body:
            self.visit(child, {})
        return self.paths


def _names(target: nodes.Node) -> list[str]:
    """The names a loop or assignment binds (`x`, or `a, b`)."""
    if isinstance(target, nodes.Name):
        return [target.name]
    return [name.name for name in target.find_all(nodes.Name)]


def _methods(form: Form) -> dict[str, str]:
    """The decision class's public methods templates may call, and the array they return."""
    cls = DECISION_TYPES[form]
    return {
        name: "rows"
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def _html_ast(env: Environment, language: str, name: str) -> nodes.Template:
    source = (template_dir(language) / name).read_text("utf-8")  # type: ignore[arg-type]
    return env.parse(source)


def _docx_xml(path: Path) -> str:
    template = DocxTemplate(path)
    template.init_docx()
    return str(template.patch_xml(template.get_xml()))


def _used(form: Form, language: str, kind: str) -> set[str]:
    if kind == "html":
        env = html_environment(language)  # type: ignore[arg-type]
        ast = _html_ast(env, language, f"{form.value}.html")
        return Usage(_methods(form), env).walk(ast)
    xml = _docx_xml(template_dir(language) / f"{form.value}.docx")  # type: ignore[arg-type]
    ast = DocxEnvironment(language).parse(xml)  # type: ignore[arg-type]
    return Usage(_methods(form)).walk(ast)


def _check_path(form: Form, path: str, kind: str) -> str | None:
    """Why `path` is not something the template may read, or None."""
    segments = path.split(".")
    if segments[0] == "document":
        if len(segments) == 1 or (len(segments) == 2 and segments[1] in DOCUMENT_FIELDS[kind]):
            return None
        return f"document has no {'.'.join(segments[1:])}"
    if segments[-1] in PROPERTIES:
        owner = _field(schema_of(form.value), segments[:-1])
        if owner is None or not set(PROPERTIES[segments[-1]]) <= set(owner.get("properties", {})):
            return f"{segments[-1]} needs {PROPERTIES[segments[-1]]}"
        return None
    if _field(schema_of(form.value), segments) is None:
        return "not a field of the schema"
    return None


def _read_fields(paths: set[str]) -> set[str]:
    """The schema fields the paths read, `full_name` standing for the name's parts."""
    read = set()
    for path in paths:
        head, _, last = path.rpartition(".")
        if last in PROPERTIES:
            read.update(f"{head}.{part}" for part in PROPERTIES[last])
        else:
            read.add(path)
    return read


@pytest.mark.parametrize("kind", ["html", "docx"])
@pytest.mark.parametrize(("form", "language"), CASES)
def test_every_variable_is_a_field_of_the_schema(form: Form, language: str, kind: str) -> None:
    used = _used(form, language, kind)
    assert used, "the walker found nothing: the test would prove nothing"
    problems = {path: why for path in used if (why := _check_path(form, path, kind))}
    assert not problems


@pytest.mark.parametrize("kind", ["html", "docx"])
@pytest.mark.parametrize(("form", "language"), CASES)
def test_every_required_field_is_printed(form: Form, language: str, kind: str) -> None:
    read = _read_fields(_used(form, language, kind))
    missing = {
        required
        for required in _required_paths(schema_of(form.value))
        if not any(
            path == required or path.startswith(f"{required}.") or path.startswith(f"{required}[].")
            for path in read
        )
    }
    assert not missing


@pytest.mark.parametrize("kind", ["html", "docx"])
@pytest.mark.parametrize(("form", "language"), CASES)
def test_the_iin_is_never_printed(form: Form, language: str, kind: str) -> None:
    assert not {path for path in _used(form, language, kind) if path.split(".")[-1] == "iin"}


@pytest.mark.parametrize(("form", "language"), CASES)
def test_docx_top_level_variables_are_fields_or_document(form: Form, language: str) -> None:
    """docxtpl's own view of the template agrees."""
    template = DocxTemplate(template_dir(language) / f"{form.value}.docx")  # type: ignore[arg-type]
    names = template.get_undeclared_template_variables(DocxEnvironment(language))  # type: ignore[arg-type]
    allowed = set(schema_of(form.value)["properties"]) | {"document"} | set(_methods(form))
    assert names
    assert names <= allowed


@pytest.mark.parametrize("language", LANGUAGES)
def test_shared_layout_reads_no_decision_field(language: str) -> None:
    """base.html, layout.html and the macro files only use their parameters and blocks, and
    `document` (the layout prints the registration number, or the preview's mark)."""
    env = html_environment(language)  # type: ignore[arg-type]
    for name in ("layout.html", "base.html", "macros.html", "extract_macros.html"):
        folder = SHARED_DIR if (SHARED_DIR / name).exists() else template_dir(language)  # type: ignore[arg-type]
        ast = env.parse((folder / name).read_text("utf-8"))
        read = Usage({}, env).walk(ast)
        assert {path for path in read if path.split(".")[0] != "document"} == set(), name


def test_same_template_names_in_both_languages() -> None:
    kk = sorted(p.name for p in template_dir("kk").iterdir())
    ru = sorted(p.name for p in template_dir("ru").iterdir())
    assert kk == ru
    assert {f"{form.value}.{ext}" for form in FORMS for ext in ("html", "docx")} <= set(kk)


def test_templates_hold_no_date_code() -> None:
    """Dates reach the page through the filters only."""
    pattern = re.compile(r"strftime|isoformat|\.year|\.month|\.day\b|%[dmYHM]")
    for language in LANGUAGES:
        for path in template_dir(language).glob("*.html"):
            assert not pattern.search(path.read_text("utf-8")), path
        for path in template_dir(language).glob("*.docx"):
            assert not pattern.search(_docx_xml(path)), path


def test_kazakh_certificate_title_is_corrected() -> None:
    """The seed's typo КУӘЛК is printed КУӘЛІК."""
    source = (template_dir("kk") / "certificate.html").read_text("utf-8")
    assert "КУӘЛІК" in source
    assert "КУӘЛК" not in source


def _load_builder() -> Any:
    spec = importlib.util.spec_from_file_location(
        "build_docx_templates", ROOT / "scripts" / "build_docx_templates.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_docx_templates_are_what_the_script_builds(tmp_path: Path) -> None:
    """Rerunning the script reproduces the committed files byte for byte."""
    for built in _load_builder().build(tmp_path):
        committed = ROOT / built.relative_to(tmp_path)
        assert built.read_bytes() == committed.read_bytes(), committed.name


def test_docx_protocol_tables_repeat_their_header_and_keep_rows_whole() -> None:
    from docx import Document

    for language in LANGUAGES:
        for form in (Form.PROTOCOL, Form.HEADS_PROTOCOL):
            path = template_dir(language) / f"{form.value}.docx"  # type: ignore[arg-type]
            document = Document(io.BytesIO(path.read_bytes()))
            grids = [t for t in document.tables if t.style and t.style.name == "Table Grid"]
            assert len(grids) == (4 if form is Form.PROTOCOL else 2)
            for table in grids:
                xml = table._tbl.xml
                assert "<w:tblHeader/>" in xml
                assert "<w:cantSplit/>" in xml
                assert 'w:type="fixed"' in xml
