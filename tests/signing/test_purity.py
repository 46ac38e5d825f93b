"""signing/ is a pure library: importing every module pulls in neither Flask nor SQLAlchemy."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import signing

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, json, pkgutil, sys
import signing
names = [m.name for m in pkgutil.walk_packages(signing.__path__, "signing.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted(sys.modules)}))
"""


def test_no_flask_or_sqlalchemy_in_signing() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, check=True
    )
    found = json.loads(result.stdout)

    expected = {m.name for m in pkgutil.walk_packages(signing.__path__, "signing.")}
    assert set(found["modules"]) == expected
    assert {"signing.verify", "signing.combine", "signing.client", "signing.pki"} <= expected
    top_level = {name.split(".")[0] for name in found["loaded"]}
    assert "flask" not in top_level
    assert "sqlalchemy" not in top_level
