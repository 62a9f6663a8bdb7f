"""Debian tools the benchmarks run (nginx, valgrind), installed with apt-get when missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def ensure_installed(executable: str, package: str) -> str:
    """The path of ``executable``, installing Debian's ``package`` first when it is missing."""
    found = shutil.which(executable) or _in_sbin(executable)
    if found:
        return found
    print(f"{executable} is missing: apt-get install -y {package}", flush=True)
    subprocess.run(["apt-get", "install", "-y", package], check=True, stdout=subprocess.DEVNULL,
                   env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    found = shutil.which(executable) or _in_sbin(executable)
    if not found:
        raise RuntimeError(f"{executable} could not be installed (apt-get install {package})")
    return found


def _in_sbin(executable: str) -> str | None:
    path = Path("/usr/sbin") / executable
    return str(path) if path.exists() else None
