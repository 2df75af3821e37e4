"""``gbsim-dashboard``: serve the dashboard on this machine and print its address.

It runs ``solara run sim.dashboard.app`` bound to 127.0.0.1 (not reachable from other machines
unless ``--host`` says so), in production mode (no file watching), without opening a browser,
and with nothing sent out of the machine by the server: Solara's usage telemetry and its PyPI
version check are switched off. The page's scripts, styles and fonts come from the pinned
``solara-assets`` package (Solara 1.58.2; later versions fetch them from a public CDN and show a
blank page offline: /work/shared/TECH.md, "Dashboard").
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["free_port", "main", "serving", "solara_command", "solara_env"]

APP = "sim.dashboard.app"
DEFAULT_PORT = 8765  # Solara's own default


def solara_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line that serves the app."""
    return [sys.executable, "-m", "solara", "run", APP, "--host", host, "--port", str(port),
            "--no-open", "--production", "--no-check-version"]


def solara_env(base: dict | None = None) -> dict:
    """The environment for the server: ``base`` (default: this one) with telemetry off."""
    env = dict(os.environ if base is None else base)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    return env


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(log: Path, port: int | None = None, timeout_s: float = 120.0):
    """Serve the dashboard in a child process while the ``with`` block runs (tests, benchmark).

    Yields ``(url, process)`` once the page answers; the server's output goes to ``log``.

    Raises:
        RuntimeError: the server exited, or did not answer in ``timeout_s`` seconds (the
            message ends with the end of its log).
    """
    port = free_port() if port is None else port
    url = f"http://127.0.0.1:{port}/"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sim.dashboard.serve", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gbsim-dashboard exited ({proc.returncode}):\n"
                                   f"{Path(log).read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gbsim-dashboard did not answer at {url} in "
                                       f"{timeout_s} s:\n{Path(log).read_text()[-3000:]}") from None
                time.sleep(0.5)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``gbsim-dashboard``."""
    ap = argparse.ArgumentParser(prog="gbsim-dashboard", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    ap.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    args = ap.parse_args(argv)
    try:
        import solara  # noqa: F401
    except ImportError:
        sys.exit("gbsim-dashboard: error: Solara is not installed; install the viz extra: "
                 "pip install -e '.[viz]' (make setup does)")
    if not _port_free(args.host, args.port):
        sys.exit(f"gbsim-dashboard: error: port {args.port} on {args.host} is in use; "
                 f"choose another with --port")
    print(f"gbsim-dashboard: serving on http://{args.host}:{args.port}/ (Ctrl-C to stop)",
          flush=True)
    cmd = solara_command(args.host, args.port)
    # Replace this process so that Ctrl-C and a kill of this PID reach the server directly.
    os.execvpe(cmd[0], cmd, solara_env())


if __name__ == "__main__":
    main()
