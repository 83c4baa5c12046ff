"""The README's two commands, literally: in a brand-new venv, `pip install .` (from a copy
of the tracked files, nothing built) then `jupyter lab`, which serves JupyterLab with both
extensions enabled. Slow (a wheel build with jlpm): about a minute."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_pip_install_then_jupyter_lab_serves_both_extensions(tmp_path: Path) -> None:
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    clone = tmp_path / "clone"
    for name in filter(None, tracked):
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, clone / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    env.pop("VIRTUAL_ENV", None)

    subprocess.run(
        [str(bin_dir / "pip"), "install", "-q", "."], cwd=clone, env=env, check=True, timeout=900
    )

    servers = subprocess.run(
        [str(bin_dir / "jupyter"), "server", "extension", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    labs = subprocess.run(
        [str(bin_dir / "jupyter"), "labextension", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    out = servers.stdout + servers.stderr
    assert "jupyter_collab" in out and "jupyterlab" in out and "OK" in out
    assert "jupyter-collab" in labs.stdout + labs.stderr
    port, token = free_port(), uuid.uuid4().hex
    root = tmp_path / "root"
    root.mkdir()
    lab = subprocess.Popen(
        [
            str(bin_dir / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        page = ""
        while time.monotonic() < deadline and lab.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/lab?token={token}", timeout=5
                ) as response:
                    page = response.read().decode()
                break
            except OSError:
                try:  # still starting: wait for it to exit (an error) for a moment
                    lab.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
        assert "jupyter-config-data" in page, "jupyter lab did not serve its page"
        config = json.loads(
            page.split('id="jupyter-config-data" type="application/json">')[1].split("</script>")[0]
        )
        federated = {ext["name"] for ext in config["federated_extensions"]}
        assert "jupyter-collab" in federated
        # nbdime comes for its diff only: its JupyterLab extension (git buttons, a request
        # on every notebook opened) is switched off by our labconfig
        assert "nbdime-jupyterlab" in config["disabledExtensions"]
        with urllib.request.urlopen(
            urllib.request.Request(
                f"http://127.0.0.1:{port}/api/collab/links/",
                headers={"Authorization": f"token {token}"},
            ),
            timeout=10,
        ) as answer:
            assert json.loads(answer.read())["links"] == []
    finally:
        lab.terminate()
        lab.wait(timeout=60)
