"""The code version of a run: the package version, the git commit and whether the tree was dirty.

Every run records it (``summary.json``'s ``code_version``, the comment lines at the head of
``config.yaml``) and ``gbsim --version`` prints it, so a figure can always be traced to the code
that made it. Outside a git checkout (an installed wheel) the commit is ``None``.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from sim import __version__

__all__ = ["code_version", "version_line"]

_ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(_ROOT), *args], capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


@functools.cache
def code_version() -> dict:
    """``{"package": "0.1.0", "commit": "<40 hex>" or None, "dirty": bool or None}``.

    Read once per process: a batch of thousands of runs asks git once. ``dirty`` counts tracked
    files changed from the commit (untracked files, e.g. outputs, do not make a tree dirty).
    """
    commit = _git("rev-parse", "HEAD") if (_ROOT / ".git").exists() else None
    dirty = None
    if commit is not None:
        status = _git("status", "--porcelain", "--untracked-files=no")
        dirty = None if status is None else bool(status)
    return {"package": __version__, "commit": commit, "dirty": dirty}


def version_line() -> str:
    """One line for ``--version``: ``groupbuy-sim 0.1.0 (commit 1a2b3c4d5e6f, clean)``."""
    v = code_version()
    if v["commit"] is None:
        return f"groupbuy-sim {v['package']} (not a git checkout)"
    state = "dirty" if v["dirty"] else "clean"
    return f"groupbuy-sim {v['package']} (commit {v['commit'][:12]}, {state})"
