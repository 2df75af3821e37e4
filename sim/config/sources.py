"""Where scenario files live, and what is wrong with one that does not compose.

A config group option (``experiment=mine``) is a YAML file ``<group>/<option>.yaml`` in the
project's ``configs/`` or in a directory the user puts on Hydra's search path (``--config-dir``
/ ``-cd`` or ``hydra.searchpath=[file:///abs/dir]``; docs/scenarios.md). Hydra appends such a
directory after the project's, so a project option wins over a user's file of the same name.

When composing fails, Hydra says "no such option in config group" or prints a stack of
``ConfigKeyError``s. This module finds the file behind a group override and names what is wrong
in it, in one line: its YAML (a line and column), a key the schema does not know (with the keys
allowed there), or a missing ``# @package _global_`` header.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from omegaconf import DictConfig

__all__ = ["GLOBAL_HEADER", "diagnose_option", "group_options", "is_group", "option_file",
           "search_dirs", "searchpath_overrides", "where_set"]

GLOBAL_HEADER = "# @package _global_"


def _project_dir() -> Path:
    # sim.api.CONFIG_DIR, found the same way here: sim.api imports this module.
    return Path(__file__).resolve().parents[2] / "configs"


def searchpath_overrides(lines: list[str]) -> list[str]:
    """The ``hydra.searchpath=[...]`` overrides among ``lines`` (they must reach every compose)."""
    return [ln for ln in lines if ln.lstrip("+~").split("=", 1)[0] == "hydra.searchpath"]


def search_dirs(lines: list[str]) -> list[Path]:
    """The project's config directory, then the ``file://`` directories of hydra.searchpath."""
    dirs = [_project_dir()]
    for ln in searchpath_overrides(lines):
        value = ln.split("=", 1)[1]
        for item in re.findall(r"file://([^,\]'\"]+)", value):
            dirs.append(Path(item.strip()))
    return dirs


# Directories of configs/ that are not config groups of a run: Hydra's own settings and the
# uncertainty registry (configs/uncertainty/, read by sim.uncertainty for batch designs).
NOT_GROUPS = ("hydra", "uncertainty")


def is_group(key: str, dirs: list[Path]) -> bool:
    key = key.lstrip("+~")
    return key not in NOT_GROUPS and any((d / key).is_dir() for d in dirs)


def group_options(group: str, dirs: list[Path]) -> list[str]:
    """Every option of ``group`` on the search path (sorted, each name once)."""
    return sorted({p.stem for d in dirs for p in (d / group).glob("*.yaml")})


def option_file(group: str, option: str, dirs: list[Path]) -> Path | None:
    """The file Hydra would load for ``group=option`` (the first on the search path)."""
    for d in dirs:
        f = d / group / f"{option}.yaml"
        if f.is_file():
            return f
    return None


def _is_global(text: str) -> bool:
    return any(ln.strip().replace(" ", "") == GLOBAL_HEADER.replace(" ", "")
               for ln in text.splitlines() if ln.startswith("#"))


def _unknown_key(data, base: DictConfig, prefix: list[str]) -> tuple[str, str, list] | None:
    """The first key of ``data`` (a file's YAML) not in ``base`` (the composed defaults)."""
    if not isinstance(data, dict) or not isinstance(base, DictConfig):
        return None
    for k, v in data.items():
        if k == "defaults" and not prefix:
            continue
        if str(k) not in base:
            # platforms.<name> and products.<name> are open maps: any name adds an entry.
            if prefix and prefix[-1] in ("platforms", "products", "suppliers", "segments"):
                continue
            return str(k), ".".join(prefix) or "the top level", [str(x) for x in base.keys()]
        found = _unknown_key(v, base[str(k)], [*prefix, str(k)])
        if found:
            return found
    return None


def _missing_default(data, group: str, dirs: list[Path]) -> tuple[str, str] | None:
    """The first (group, option) of a file's defaults list with no file on the search path:
    ``- override /market: nosuch``, ``- /incentive: nosuch``, or ``- nosuch`` (the file's own
    group)."""
    items = data.get("defaults") if isinstance(data, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            g, opt = group, item
        elif isinstance(item, dict) and len(item) == 1:
            (g, opt), = item.items()
            g = str(g).removeprefix("override ").strip().lstrip("/").split("@")[0]
        else:
            continue
        if opt is None or str(opt) == "_self_" or not is_group(g, dirs):
            continue
        if option_file(g, str(opt), dirs) is None:
            return g, str(opt)
    return None


def diagnose_option(group: str, option: str, dirs: list[Path], base: DictConfig) -> str | None:
    """What is wrong in the file of ``group=option``, as one line; None if nothing is found.

    Args:
        group: the config group (``experiment``).
        option: the option's name (the file's stem).
        dirs: the search path (:func:`search_dirs`).
        base: the config composed without this option, for the keys allowed.
    """
    import yaml

    f = option_file(group, option, dirs)
    if f is None:
        return None
    text = f.read_text()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        return f"{f}: {where}{problem} (YAML: check the indentation and the colons)"
    # The options of the project's own group say whether this group is global (experiment).
    siblings = list((_project_dir() / group).glob("*.yaml"))
    group_global = bool(siblings) and all(_is_global(p.read_text()) for p in siblings)
    if group_global and not _is_global(text):
        return (f"{f}: no '{GLOBAL_HEADER}' line at the top; a file of '{group}' sets keys of "
                "the whole config and must start with it")
    if data is None:
        return None
    missing = _missing_default(data, group, dirs)
    if missing:
        g, opt = missing
        return (f"{f}: its defaults list names {g}={opt}: no such option in config group "
                f"'{g}'; allowed: " + ", ".join(group_options(g, dirs)))
    target = base if _is_global(text) else base.get(group)
    found = _unknown_key(data, target, [] if _is_global(text) else [group])
    if found:
        key, where, allowed = found
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        where = "at the top level" if where == "the top level" else f"in '{where}'"
        return (f"{f}: unknown key '{key}' {where}{hint}; allowed keys: "
                + ", ".join(allowed))
    return None


def where_set(key: str, group_lines: list[str], dirs: list[Path]) -> Path | None:
    """The scenario file among ``group_lines`` (``experiment=mine``) that sets ``key``."""
    import yaml

    parts = key.lstrip("+~").split(".")
    for ln in group_lines:
        g, _, opt = ln.lstrip("+~").partition("=")
        f = option_file(g, opt, dirs)
        if f is None:
            continue
        try:
            text = f.read_text()
            node = yaml.safe_load(text)
        except (OSError, yaml.YAMLError):
            continue
        path = parts if _is_global(text) else parts[1:] if parts[0] == g else None
        for p in path or [None]:
            if not isinstance(node, dict) or p not in node:
                node = None
                break
            node = node[p]
        if path and node is not None:
            return f
    return None
