"""The README and docs/ cannot drift: every shell block they show is run as written.

A fenced block whose info string is `sh` is a walk-through. Each one runs on its own with
`bash -euo pipefail`, as a newcomer would paste it into a fresh shell at the root of a fresh
clone: the working directory is a new temporary folder holding a copy of `examples/` and a
link to the repository's `.venv`, no QUJAT_* variable is inherited, PATH starts with the
repository's `.venv/bin`, and TMPDIR (so every `mktemp -d`) is inside that folder. The
commands are the real ones (`qujat serve`, curl, openssl, jq), with nothing stubbed.

Two HTML comments, invisible on a rendered page, tie a block to the test:

    <!-- not run: REASON -->     on the line before the fence: the block is not run
                                 (it needs root, runs for ever, or is a production example)
    <!-- real clock: REASON -->  on the line before the fence: the block runs on the real
                                 clock (what it prints does not depend on the day)
    <!-- expect: TEXT -->        on the lines after the closing fence, one per claim: TEXT
                                 appears in what the block prints (stdout and stderr)

The clock is the one the tests control: every process of a walk-through runs with libfaketime
preloaded, its clock shifted so that it starts at tests.conftest.NOW. Python's timed waits
(`Event.wait`, a process pool's queues) do not work under libfaketime, so a block whose server
must run a background thread (the e-mail sender, the batch executor) is marked `real clock`
and claims only what does not depend on the day. The examples' dates, the
year in registration numbers, validity and deadlines then read as the docs say on whatever
day the test runs. When the whole suite itself runs under a shifted clock (datefudge or
libfaketime, checking that it passes a year ahead), the walk-throughs drop that outer clock:
a shifted block is shifted from the machine's real clock to NOW as always, and a `real clock`
block gets the real one its waits need.
A port a block names (8001, 8025) is used when it is free; when another
program holds it, the block runs with a free port in its place.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import NOW, ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(?P<info>[^`]*)$")
NOT_RUN = re.compile(r"^<!-- not run: (?P<reason>.+\S) -->$")
REAL_CLOCK = re.compile(r"^<!-- real clock: (?P<reason>.+\S) -->$")
EXPECT = re.compile(r"^<!-- expect: (?P<text>.+\S) -->$")
# fenced blocks the docs may use; a shell block must be `sh`, so none escapes the test
KNOWN_INFO = {"sh", "json", "text", "http", "ini"}  # ini: systemd units (deployment.md)
PORT = re.compile(r"(?:127\.0\.0\.1:|--port )(?P<port>\d{4,5})\b")
BLOCK_TIMEOUT_SECONDS = 600  # a bound for a loaded machine; a quiet one needs a minute


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    info: str
    code: str
    not_run: str | None
    real_clock: bool
    expects: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    lines = page.read_text("utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        start = index
        index += 1
        while index < len(lines) and lines[index] != "```":
            index += 1
        assert index < len(lines), f"{page.name}:{start + 1}: the block is never closed"
        code = "\n".join(lines[start + 1 : index]) + "\n"
        index += 1
        expects = []
        while index < len(lines) and (claim := EXPECT.match(lines[index])):
            expects.append(claim["text"])
            index += 1
        before = lines[start - 1] if start > 0 else ""
        not_run = NOT_RUN.match(before)
        found.append(Block(page, start + 1, opening["info"].strip(), code,
                           not_run["reason"] if not_run else None,
                           REAL_CLOCK.match(before) is not None, tuple(expects)))
    return found


ALL_BLOCKS = [block for page in PAGES for block in blocks(page)]
WALKTHROUGHS = [block for block in ALL_BLOCKS if block.info == "sh" and block.not_run is None]


def test_every_block_is_known_and_every_walkthrough_claims_an_output() -> None:
    assert WALKTHROUGHS, "no walk-through found"
    for block in ALL_BLOCKS:
        assert block.info in KNOWN_INFO, f"{block.name}: fenced as {block.info!r}"
        if block.info != "sh":
            assert block.not_run is None, f"{block.name}: only sh blocks are run"
            assert not block.real_clock, f"{block.name}: only sh blocks are run"
            assert not block.expects, f"{block.name}: only sh blocks are run"
    for block in WALKTHROUGHS:
        assert block.expects, f"{block.name}: say with <!-- expect: … --> what it prints"


def test_every_docs_page_is_reachable_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    linked = set(re.findall(r"\]\((docs/[^)#]+\.md)(?:#[^)]*)?\)", readme))
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert pages - linked == set()


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _on_free_ports(block: Block) -> tuple[str, list[str]]:
    """The block and its claims as written, any named port that is taken replaced by a free one."""
    code, expects = block.code, list(block.expects)
    for port in sorted({int(match["port"]) for match in PORT.finditer(code)}):
        if not _port_is_free(port):
            named, free = re.compile(rf"(?<!\d){port}(?!\d)"), str(_free_port())
            code = named.sub(free, code)
            expects = [named.sub(free, claim) for claim in expects]
    return code, expects


_CLOCK_SHIFTERS = ("faketime", "datefudge")


def _real_time() -> float:
    """The machine's clock, also when this process runs under datefudge or libfaketime (whose
    clock calls are shifted, while the kernel's boot time and uptime files are not)."""
    if not any(shifter in os.environ.get("LD_PRELOAD", "") for shifter in _CLOCK_SHIFTERS):
        return time.time()
    boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("btime "))
    return boot + float(Path("/proc/uptime").read_text().split()[0])


def _clean_environment(work: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("QUJAT_", "FAKETIME", "DATEFUDGE")) and name != "LD_PRELOAD"}
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env["TMPDIR"] = str(work / "tmp")
    return env


def _logs(work: Path) -> str:
    tails = [f"--- {log.relative_to(work)}\n{log.read_text('utf-8', 'replace')[-3000:]}"
             for log in sorted(work.rglob("*.log"))]
    return "\n".join(tails)


@pytest.mark.slow
@pytest.mark.parametrize("block", WALKTHROUGHS, ids=[block.name for block in WALKTHROUGHS])
def test_walkthrough_runs_as_written(block: Block, tmp_path: Path) -> None:
    libraries = sorted(Path("/usr/lib").glob("*/faketime/libfaketimeMT.so.1"))
    if not libraries:
        pytest.fail("the walk-throughs run under libfaketime: install faketime (scripts/setup)")
    work = tmp_path / "clone"
    (work / "tmp").mkdir(parents=True)
    shutil.copytree(ROOT / "examples", work / "examples")
    (work / ".venv").symlink_to(ROOT / ".venv")
    script = work.parent / "walkthrough.sh"
    code, expects = _on_free_ports(block)
    script.write_text(code, "utf-8")
    env = _clean_environment(work)
    if not block.real_clock:
        # every process of the block sees the same clock, shifted to start at NOW (preloaded
        # rather than through the `faketime` wrapper, which waits for every background process)
        env["LD_PRELOAD"] = str(libraries[0])
        env["FAKETIME"] = f"{round(NOW.timestamp() - _real_time()):+d}"
    output = work.parent / "output.txt"
    with output.open("wb") as printing:
        process = subprocess.Popen(
            ["bash", "-euo", "pipefail", str(script)],
            cwd=work,
            env=env,
            stdout=printing,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        process.wait(timeout=BLOCK_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    finally:
        # the servers a block started (and left behind if it failed half-way): end them all
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    printed = output.read_text("utf-8", "replace")
    report = f"{block.name} exited {process.returncode}:\n{printed[-6000:]}\n{_logs(work)}"
    assert process.returncode == 0, report
    missing = [claim for claim in expects if claim not in printed]
    assert missing == [], report
