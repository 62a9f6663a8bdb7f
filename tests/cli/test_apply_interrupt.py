"""Ctrl-C and SIGTERM during `python -m toolkit apply`, for real: a subprocess publishing to a served emulator,
a signal sent while the emulator holds one of its writes, and the target's state read back through the SDK."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from toolkit.emulator.management import ManagementPlane
from toolkit.emulator.management.arm import ArmError
from toolkit.publish.target import LOCAL_RESOURCE_GROUP as RG
from toolkit.publish.target import LOCAL_SERVICE as SVC
from toolkit.testing.emulator_servers import management_client

WAIT = 120  # seconds; a bound against hangs only (the subprocess imports azure and plans first)
SAMPLE_WRITES = 11  # the repository's toolkit.yaml, fresh target


class WriteGate:
    """Holds chosen writes (PUT/DELETE, numbered from 1) inside the emulator until the test releases them.

    The hold happens before the write touches the store; ``abort`` makes a held write answer 503 instead.
    """

    def __init__(self, plane: ManagementPlane, hold: tuple[int, ...]) -> None:
        self.reached = {n: threading.Event() for n in hold}
        self.released = {n: threading.Event() for n in hold}
        self.abort: set[int] = set()
        self._count = 0
        original = plane.faults.on_write

        def on_write(kind: str, method: str) -> ArmError | None:
            if method in ("PUT", "DELETE"):
                self._count += 1
                number = self._count
                if number in self.reached:
                    self.reached[number].set()
                    self.released[number].wait(WAIT)
                    if number in self.abort:
                        return ArmError(503, "ServiceUnavailable", "held write aborted by the test")
            return original(kind, method)

        plane.faults.on_write = on_write  # type: ignore[method-assign]

    def wait(self, number: int) -> None:
        assert self.reached[number].wait(WAIT), f"write {number} never arrived"

    def release(self, number: int, *, abort: bool = False) -> None:
        if abort:
            self.abort.add(number)
        self.released[number].set()

    def release_all(self) -> None:
        for event in self.released.values():
            event.set()


class Apply:
    """`python -m toolkit apply --yes` as a subprocess, its stderr collected line by line."""

    def __init__(self, env: dict[str, str], config: Path) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        # --parallel 1: these tests hold the Nth write by number, which needs one write in flight at a time
        # (concurrent writes are covered in tests/unit/publish/test_publish_parallel.py).
        self.proc = subprocess.Popen([sys.executable, "-m", "toolkit", "apply", "--yes", "--parallel", "1",
                                      "--config", str(config)],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, text: str) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: any(text in line for line in self.lines), WAIT), \
                f"{text!r} never printed:\n{self.stderr}"

    def finish(self) -> int:
        code = self.proc.wait(WAIT)
        self._reader.join(WAIT)
        return code

    def close(self) -> None:
        """Kill it if it still runs; close the pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(WAIT)
        self._reader.join(WAIT)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def done_labels(self) -> list[str]:
        return [m.group(1) for line in self.lines if (m := re.match(r"\s+done: create (.+)$", line))]


def _live_names(env: dict[str, str]) -> set[str]:
    """Every named value, backend and API on the target, read through the SDK."""
    sdk = management_client(env["TOOLKIT_MANAGEMENT_URL"], env["TOOLKIT_CA_BUNDLE"], token=env["TOOLKIT_EMULATOR_TOKEN"])
    try:
        groups: list[Any] = [sdk.named_value, sdk.backend, sdk.api]
        return {f"{group.__class__.__name__}:{item.name}" for group in groups for item in group.list_by_service(RG, SVC)}
    finally:
        sdk.close()


def _kind_and_name(label: str) -> tuple[str, str]:
    kind, _, quoted = label.partition(" ")
    return kind, quoted.strip("'")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_first_signal_rolls_back_what_was_written(served_env: dict[str, str], plane: ManagementPlane,
                                                      repo_root: Path, sig: signal.Signals) -> None:
    gate = WriteGate(plane, hold=(4,))
    run = Apply(served_env, repo_root / "toolkit.yaml")
    try:
        gate.wait(4)
        run.proc.send_signal(sig)
        run.wait_for(f"{sig.name} received: stopping after the current write")
        gate.release(4)  # the write in flight completes: the apply must undo it too
        code = run.finish()
    finally:
        gate.release_all()
        run.close()
    assert code == 130, run.stderr
    assert f"interrupted after 4 of {SAMPLE_WRITES} write(s); rolled back 4 change(s): the target is as before" \
        in run.stderr
    assert len(run.done_labels()) == 4
    assert _live_names(served_env) == set()  # through the SDK: nothing the apply created is left
    assert plane.store.all() == []


def test_a_second_ctrl_c_stops_at_once_and_lists_what_is_left(served_env: dict[str, str], plane: ManagementPlane,
                                                              repo_root: Path) -> None:
    gate = WriteGate(plane, hold=(4, 5))  # write 5 is the rollback's first undo
    run = Apply(served_env, repo_root / "toolkit.yaml")
    try:
        gate.wait(4)
        run.proc.send_signal(signal.SIGINT)
        run.wait_for("SIGINT received")
        gate.release(4)
        gate.wait(5)
        run.proc.send_signal(signal.SIGINT)
        code = run.finish()
        gate.release(5, abort=True)  # the undo in flight never happens on the target
    finally:
        gate.release_all()
        run.close()
    assert code == 4, run.stderr
    assert "SIGINT again: stopping at once" in run.stderr
    written = run.done_labels()
    assert len(written) == 4
    left = run.stderr.split("NOT restored, left changed by this apply")[1]
    for label in written:
        assert f"  {label}: " in left  # each is listed ...
    assert f"  {written[-1]}: state unknown: interrupted while undoing its create" in left
    live = {name for kind_name in _live_names(served_env) for name in [kind_name.split(":", 1)[1]]}
    assert {_kind_and_name(label)[1] for label in written} <= live  # ... and each is still on the target
    assert len(plane.store.all()) == 4
    assert "as before the apply" not in run.stderr
