"""Hostile conditions: nothing is left behind when a command is killed.

A real ``sweep --backend processes`` and a real ``adoption-model view`` are started as
subprocesses, their children found in ``/proc``, the parent SIGKILLed (or SIGTERMed), and
every child must be gone within seconds: workers and the resource tracker die with the
sweep, the Solara server with the view (``prctl(PR_SET_PDEATHSIG)``, see
:mod:`adoption_model.guards`). The Dask LocalCluster listens on loopback only and serves no
dashboard.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="parent-death signals are Linux-only"
)

# runs of about a minute each: a worker busy with one outlives a killed parent unless the
# kernel kills it (it only notices the broken pipe when it sends its result)
EXPERIMENT = """
name = "hostile"
replications = 4
[set]
steps = 20000
"output.nation_frame" = false
[levers."imf.stance"]
values = [0.0, 1.0]
[outcomes]
final_share = "final(adoption_share)"
"""


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``."""
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        parents, frontier = frontier, set()
        for entry in os.listdir("/proc"):
            if entry.isdigit() and _ppid(int(entry)) in parents and int(entry) not in found:
                found.add(int(entry))
                frontier.add(int(entry))
    return {p for p in found if _alive(p)}


def _wait_for(predicate, timeout: float, step: float = 0.2) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def _cli(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "adoption_model", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so a leftover can be cleaned up by group if the test fails
    )


def _cleanup(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_sweep_workers_and_resource_tracker_die_with_the_sweep(
    tmp_path: Path, sig: signal.Signals
) -> None:
    exp = tmp_path / "hostile.toml"
    exp.write_text(EXPERIMENT)
    proc = _cli(
        "sweep", str(exp), "--backend", "processes", "--workers", "2", "--quiet",
        "--out", str(tmp_path / "out"), cwd=tmp_path,
    )  # fmt: skip
    children: set[int] = set()
    try:
        # the resource tracker and two spawn workers
        assert _wait_for(lambda: len(descendants(proc.pid)) >= 3, 90), "no workers started"
        time.sleep(1.0)
        children = descendants(proc.pid)
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        assert _wait_for(lambda: not any(_alive(p) for p in children), 20), (
            f"left behind: {sorted(p for p in children if _alive(p))}"
        )
    finally:
        _cleanup(children | {proc.pid})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback
            return r.status == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_view_server_dies_with_the_view_command(tmp_path: Path, sig: signal.Signals) -> None:
    port = _free_port()
    proc = _cli("view", "--port", str(port), "--assets-dir", str(tmp_path / "assets"), cwd=tmp_path)
    url = f"http://127.0.0.1:{port}/"
    children: set[int] = set()
    try:
        assert _wait_for(lambda: _answers(url), 120, 0.5), "the view did not start"
        children = descendants(proc.pid)
        assert children, "the server is not a child of the view command"
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        assert _wait_for(lambda: not any(_alive(p) for p in children), 20)
        assert _wait_for(lambda: not _answers(url), 10), "the port still answers"
    finally:
        _cleanup(children | {proc.pid})


@pytest.mark.slow
def test_local_cluster_serves_no_dashboard_on_8787(tmp_path: Path) -> None:
    """The sweep's LocalCluster: HTTP (metrics) on a random loopback port, no dashboard."""
    import distributed

    from adoption_model.experiments import run_experiment

    exp = tmp_path / "tiny.toml"
    exp.write_text(
        'name = "tiny"\n[set]\nsteps = 2\n[levers."imf.stance"]\nvalues = [0.0]\n'
        '[outcomes]\nfinal_share = "final(adoption_share)"\n'
    )
    seen: list[tuple[str, int, str]] = []
    original = distributed.LocalCluster.__init__

    def observe(self, *args, **kwargs):  # noqa: ANN001, ANN202 - the real cluster, observed
        original(self, *args, **kwargs)
        http = self.scheduler.http_server
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http.port}/status", timeout=5) as r:
                page = f"{r.status} " + r.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            page = str(exc.code)
        seen.append((http.address, http.port, page))

    distributed.LocalCluster.__init__ = observe
    try:
        runs = run_experiment(exp, tmp_path / "out", backend="dask", workers=1, progress=False)
    finally:
        distributed.LocalCluster.__init__ = original
    assert (runs["status"] == "ok").all()
    ((address, port, page),) = seen
    assert address == "127.0.0.1" and port != 8787
    assert page == "404", page[:200]  # no dashboard page
