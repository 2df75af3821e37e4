"""The reference of every config key (``docs/config.md``), generated from where each is stated.

Each key of the default scenario gets one row: its value, what is allowed (the schema's type,
range or choices), what it does (the comment beside it in :mod:`sim.config.schema`) and where
its value comes from (the comment beside it in the YAML file that sets it). Then every option of
every config group, with the first lines of its file's header. Nothing here is written by hand,
so the reference cannot drift from the code: ``tests/test_config_reference.py`` checks that
``docs/config.md`` is what this module writes, and that every key says what it does.

Regenerate with ``python -m sim.config.reference --write``.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
import sys
from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf

from sim.config.schema import SCHEMA_TYPES, Config

__all__ = ["DOC", "meanings", "render", "yaml_comments"]

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "config.md"
CONFIGS = ROOT / "configs"
_CONT = "  "  # a comment whose text starts indented continues the one above
_KEY = re.compile(r"^(\s*)([A-Za-z_][\w]*)\s*:(.*)$")


def meanings() -> dict[tuple[str, str], str]:
    """(schema class, field) -> the comment beside the field in the schema's source (every
    module that holds a class of the schema: :mod:`sim.config.schema`, :mod:`sim.config.remedies`).

    A field's comment is the one on its line, or the comment lines right above it; the
    continuation lines below a field's comment (indented ``#``) belong to it too.
    """
    out: dict[tuple[str, str], str] = {}
    for module in sorted({cls.__module__ for cls in SCHEMA_TYPES.values()}):
        out.update(_field_comments(Path(sys.modules[module].__file__)))
    return out


def _field_comments(path: Path) -> dict[tuple[str, str], str]:
    lines = path.read_text().splitlines()
    out: dict[tuple[str, str], str] = {}
    for node in ast.parse("\n".join(lines)).body:
        if not isinstance(node, ast.ClassDef):
            continue
        for st in node.body:
            if not (isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name)):
                continue
            i = st.lineno - 1
            parts = []
            if "#" in lines[i]:
                parts.append(lines[i].split("#", 1)[1].strip())
                j = i + 1
                while j < len(lines) and re.match(r"^\s+#\s{2,}", lines[j]):
                    parts.append(lines[j].strip().lstrip("#").strip())
                    j += 1
            else:
                j = i - 1
                above = []
                while j >= 0 and lines[j].strip().startswith("#") and \
                        not re.match(r"^\s+#\s{2,}", lines[j]):  # not the field above's
                    above.insert(0, lines[j].strip().lstrip("#").strip())
                    j -= 1
                parts = above
            out[(node.name, st.target.id)] = " ".join(p for p in parts if p)
    return out


def yaml_comments(path: Path) -> dict[str, str]:
    """Dotted key (within the file) -> the comments that go with it in a YAML file.

    A key's comments: the comment lines right above it at its own indentation, the comment
    after its value, and the comment lines below that are indented past the key (a
    continuation, as the files write them).
    """
    lines = path.read_text().splitlines()
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    prev: tuple[int, str] | None = None  # (indent, dotted key) of the last key line
    for i, line in enumerate(lines):
        m = _KEY.match(line)
        if not m or line.lstrip().startswith(("#", "-")):
            continue
        indent, key, rest = len(m.group(1)), m.group(2), m.group(3)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        dotted = ".".join([k for _, k in stack] + [key])
        stack.append((indent, key))
        parts = []
        j = i - 1
        while j >= 0 and lines[j].strip().startswith("#") and \
                len(lines[j]) - len(lines[j].lstrip()) == indent:
            parts.insert(0, lines[j].strip().lstrip("#").strip())
            j -= 1
        if j < 0:
            parts = []  # the file's header: it says what the file is, not this key
        value_comment = _inline_comment(rest)
        if value_comment.startswith(_CONT) and prev is not None and prev[0] == indent:
            # "#   ..." after a value: the comment of the key above goes on over this one, and
            # on the indented comment lines below
            more = [value_comment.strip(), *_continued(lines, i, indent)]
            out[prev[1]] = " ".join([out[prev[1]], *more]).strip()
            parts, value_comment = [out[prev[1]]], ""
        prev = (indent, dotted)
        if value_comment:
            parts += [value_comment.strip(), *_continued(lines, i, indent)]
        if dotted != "defaults":
            out[dotted] = " ".join(p for p in parts if p)
    return out


def _continued(lines: list[str], i: int, indent: int) -> list[str]:
    """The comment lines below line ``i`` that continue its comment: indented past the key and
    written ``#   ...``."""
    out = []
    for line in lines[i + 1:]:
        s = line.strip()
        if not (s.startswith("#") and len(line) - len(line.lstrip()) > indent
                and re.match(r"^#\s{2,}", s)):
            break
        out.append(s.lstrip("#").strip())
    return out


def _inline_comment(rest: str) -> str:
    """The comment after a value (a ``#`` outside quotes and brackets' strings)."""
    quote = None
    for k, ch in enumerate(rest):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (k == 0 or rest[k - 1].isspace()):
            return rest[k + 1:].rstrip()
    return ""


def _allowed(f: dataclasses.Field) -> str:
    meta = f.metadata
    if meta.get("choices") is not None:
        ch = meta["choices"]
        if isinstance(ch, tuple):
            return "one of " + ", ".join(map(str, ch))
        from sim.config.validate import _choice_set

        return "one of " + ", ".join(_choice_set(ch))
    lo, hi = meta.get("lo"), meta.get("hi")
    tp = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if lo is None and hi is None:
        return tp.replace("|", "or")
    from sim.config.validate import _num

    return f"{tp.replace('|', 'or')} in [{_num(lo)}, {_num(hi)}]"


def _value(v) -> str:
    if isinstance(v, DictConfig | ListConfig):
        v = OmegaConf.to_container(v, resolve=True)
    if isinstance(v, float):
        return f"{v:g}"
    text = str(v) if not isinstance(v, str) else v
    return text if len(text) <= 60 else text[:57] + "..."


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _source_files(choices: dict[str, str]) -> list[tuple[str, Path]]:
    """(group or "", file) of the default scenario, in the order they compose."""
    files = [("", CONFIGS / "config.yaml")]
    for group, option in choices.items():
        f = CONFIGS / group / f"{option}.yaml"
        if f.is_file():
            files.append((group, f))
            files.extend(_extended(group, f))
    return files


def _extended(group: str, f: Path) -> list[tuple[str, Path]]:
    """The options an option file extends through its own defaults list (``- flat``)."""
    import yaml

    data = yaml.safe_load(f.read_text()) or {}
    out = []
    for item in data.get("defaults", []) if isinstance(data, dict) else []:
        if isinstance(item, str) and item != "_self_":
            g = CONFIGS / group / f"{item}.yaml"
            if g.is_file():
                out.append((group, g))
                out.extend(_extended(group, g))
    return out


def render() -> str:
    """The reference, as Markdown."""
    from sim.api import compose_scenario

    cfg, named = compose_scenario([])
    choices = {k: v for k, v in named["choices"].items() if v and not k.startswith("hydra")}
    comments: dict[str, str] = {}
    where: dict[str, str] = {}
    for group, f in reversed(_source_files(choices)):  # the file composed last wins
        for key, text in yaml_comments(f).items():
            full = f"{group}.{key}" if group else key
            if text or full not in comments:
                comments[full], where[full] = text, str(f.relative_to(ROOT))
    mean = meanings()
    out = [
        "# Configuration keys",
        "",
        "Every key of the default scenario (`configs/config.yaml` and the group options it "
        "composes): its value, what is allowed, what it does and where the value comes from. "
        "Generated by `python -m sim.config.reference --write` from the schema "
        "(`sim/config/schema.py`: type, range, meaning) and the YAML files (value, source); do "
        "not edit by hand (`tests/test_config_reference.py` checks that it is current). "
        "Unless a comment cites a source, a number is a modelling assumption to sweep "
        "(`configs/uncertainty/default.yaml` lists their ranges).",
        "",
        "Default group options: " + ", ".join(f"`{g}={o}`" for g, o in choices.items()) + ".",
        "",
    ]
    rows_by_section: dict[str, list[str]] = {}

    def walk(cls, node, prefix: str, section: str, pattern: str) -> None:
        for f in dataclasses.fields(cls):
            if f.name == "strategy":
                continue  # per-platform overrides of the groups below: docs/ODD.md §6
            key = f"{prefix}{f.name}"
            shown = f"{pattern}{f.name}"
            value = node[f.name] if isinstance(node, DictConfig) else getattr(node, f.name)
            sub = SCHEMA_TYPES.get(f.type) if isinstance(f.type, str) else None
            if sub is not None and f.type != "str":
                walk(sub, value, key + ".", section, shown + ".")
                continue
            m = re.match(r"dict\[str, (\w+)\]$", f.type) if isinstance(f.type, str) else None
            if m and m.group(1) in SCHEMA_TYPES:
                item = SCHEMA_TYPES[m.group(1)]
                names = list(value.keys())
                for name in names:
                    walk(item, value[name], f"{key}.{name}.", section, f"{shown}.{name}.")
                continue
            src = comments.get(key, "")
            rows_by_section.setdefault(section, []).append(
                f"| `{shown}` | {_cell(_value(value))} | {_cell(_allowed(f))} | "
                f"{_cell(mean.get((cls.__name__, f.name), ''))} | {_cell(src)} |")

    for f in dataclasses.fields(Config):
        value = cfg[f.name]
        sub = SCHEMA_TYPES.get(f.type) if isinstance(f.type, str) else None
        if sub is None and not (isinstance(f.type, str) and f.type.startswith("dict[")):
            src = comments.get(f.name, "")
            rows_by_section.setdefault("run", []).append(
                f"| `{f.name}` | {_cell(_value(value))} | {_cell(_allowed(f))} | "
                f"{_cell(mean.get(('Config', f.name), ''))} | {_cell(src)} |")
            continue
        if sub is not None:
            walk(sub, value, f.name + ".", f.name, f.name + ".")
        else:
            item = SCHEMA_TYPES[re.match(r"dict\[str, (\w+)\]$", f.type).group(1)]
            for name in value:
                walk(item, value[name], f"{f.name}.{name}.", f.name, f"{f.name}.{name}.")
    for section, rows in rows_by_section.items():
        opt = choices.get(section)
        out += [f"## {section}" + (f" (`{section}={opt}`)" if opt else ""), "",
                "| key | value | allowed | what it does | source of the value |",
                "|---|---|---|---|---|", *rows, ""]
    out += ["## Group options", "",
            "Each option is a file `configs/<group>/<option>.yaml`; the first lines of its "
            "header say what it is (`gbsim <group>=<option>`).", ""]
    from sim.config.sources import NOT_GROUPS

    for d in sorted(p for p in CONFIGS.iterdir() if p.is_dir() and p.name not in NOT_GROUPS):
        out += [f"### {d.name}", ""]
        for f in sorted(d.glob("*.yaml")):
            out.append(f"- `{d.name}={f.stem}`: {_cell(_header(f))}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _header(f: Path) -> str:
    """The file's opening comment, up to its first sentence's end or 300 characters."""
    text = []
    for line in f.read_text().splitlines():
        s = line.strip()
        if not s.startswith("#"):
            break
        s = s.lstrip("#").strip()
        if s.startswith(("@package", "to run:")):
            continue
        text.append(s)
    joined = " ".join(t for t in text if t)
    m = re.search(r"^(.{40,300}?[.;])(\s|$)", joined)
    return (m.group(1) if m else joined[:300]) or "(no header comment)"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="The reference of every config key (docs/config.md)")
    ap.add_argument("--write", action="store_true", help=f"write {DOC.relative_to(ROOT)}")
    args = ap.parse_args(argv)
    text = render()
    if args.write:
        DOC.write_text(text)
        print(f"written {DOC.relative_to(ROOT)}")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
