"""`toolkit emulator start`: a bad --state file is exit 3 naming it; the API token goes to a 0600 file, never to a log."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from toolkit.cli import root


def test_a_deeply_nested_state_file_is_exit_3_naming_it(tmp_path: Path) -> None:
    state = tmp_path / "deep-state.json"
    state.write_text('{"version": 1, "resources": ' + "[" * 200_000 + "]" * 200_000 + "}", encoding="utf-8")
    result = CliRunner().invoke(root, ["emulator", "start", "--port", "0", "--state", str(state),
                                       "--config", str(tmp_path / "none.yaml"), "--token-file", str(tmp_path / "t")])
    assert result.exit_code == 3, result.output
    assert "deep-state.json" in result.stderr and "nested" in result.stderr
    assert "Traceback" not in result.output


def _wait_for(path: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def test_start_writes_the_token_to_a_private_file_and_keeps_it_out_of_a_non_terminal_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("TOOLKIT_EMULATOR_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "emulator", "start", "--port", "0", "--config", str(tmp_path / "none.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path, text=True)
    try:
        folder = tmp_path / ".toolkit" / "emulator"
        deadline = time.monotonic() + 60
        while not (folder.is_dir() and any(folder.glob("*.token"))):
            assert process.poll() is None and time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.1)
        token_file = next(folder.glob("*.token"))
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        control_url = f"http://127.0.0.1:{token_file.stem}"
        from toolkit.emulator.access import find_token

        assert find_token({"TOOLKIT_EMULATOR_URL": control_url}) == token  # what the library and CLI use
        health = httpx.get(control_url + "/health", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert health.status_code == 200
        # the CLI finds the running emulator from TOOLKIT_EMULATOR_URL alone, its token from the file
        repo = Path(__file__).resolve().parents[2]
        plan = CliRunner(env={"TOOLKIT_EMULATOR_URL": control_url, "TOOLKIT_MANAGEMENT_URL": "",
                              "TOOLKIT_EMULATOR_TOKEN": ""}).invoke(root, ["plan", "--config", str(repo / "toolkit.yaml")])
        assert plan.exit_code == 0, plan.output
        assert token not in plan.output
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert token not in stdout and token not in stderr
    assert f"export TOOLKIT_EMULATOR_URL={control_url}" in stdout
    assert f"token written to {token_file} (mode 0600; clients read it from there" in stderr
    assert "APIM_SUBSCRIPTION_KEY" not in stdout  # the random key is shown only at a terminal
    assert "subscription 'default' created" in stderr
    assert not token_file.exists()  # removed at stop


def test_start_on_a_terminal_shows_the_token_and_a_working_subscription_key(tmp_path: Path) -> None:
    """At a terminal the person is shown both secrets as exports; both work against the running emulator."""
    import pty
    import re

    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for name in ("TOOLKIT_EMULATOR_TOKEN", "APIM_SUBSCRIPTION_KEY"):
        env.pop(name, None)
    token_file = tmp_path / "emulator.token"
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "emulator", "start", "--port", "0", "--config", str(tmp_path / "none.yaml"),
         "--token-file", str(token_file)],
        stdout=follower, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    os.close(follower)
    shown = ""
    try:
        deadline = time.monotonic() + 60
        while "APIM_SUBSCRIPTION_KEY=" not in shown or not shown.endswith("\n"):
            assert process.poll() is None and time.monotonic() < deadline, f"the emulator did not start: {shown!r}"
            shown += os.read(leader, 4096).decode().replace("\r\n", "\n")
        exports = dict(re.findall(r"^export (\w+)=(\S+)$", shown, flags=re.MULTILINE))
        assert exports["TOOLKIT_EMULATOR_TOKEN"] == token_file.read_text().strip()
        control = exports["TOOLKIT_EMULATOR_URL"]
        auth = {"Authorization": f"Bearer {exports['TOOLKIT_EMULATOR_TOKEN']}"}
        assert httpx.get(control + "/health", headers=auth, timeout=10).status_code == 200
        assert httpx.get(control + "/health", headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
        # The key shown is the 'default' subscription's: the control API lists that subscription.
        assert httpx.get(control + "/subscriptions", headers=auth, timeout=10).json()["subscriptions"] == ["default"]
        assert len(exports["APIM_SUBSCRIPTION_KEY"]) >= 16
        assert exports["APIM_BASE_URL"].startswith("http://127.0.0.1:")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        os.close(leader)
    assert process.returncode == 0
    assert exports["TOOLKIT_EMULATOR_TOKEN"] not in stderr.decode()  # secrets only on the terminal
    assert exports["APIM_SUBSCRIPTION_KEY"] not in stderr.decode()
    assert "emulator stopped" in stderr.decode()
    # A token file of the user's choosing is not where clients look: the message says how to hand it over.
    default_file = tmp_path / ".toolkit" / "emulator" / f"{control.rsplit(':', 1)[1]}.token"
    assert (f"clients look for it at {default_file} only: give them "
            f'TOOLKIT_EMULATOR_TOKEN="$(cat {token_file})"') in stderr.decode()
    assert not token_file.exists()
