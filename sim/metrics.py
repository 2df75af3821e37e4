"""Metrics of a run by name: what ``gbsim-compare --metrics`` accepts (ODD 10).

Four forms, checked against the composed configs before any run starts:

* ``NAME``: a figure of ``summary.json`` (``orders_total``, ``leader_monthly_churn_rate``).
* ``NAME.KEY``: one entry of a per-platform (or per-stage, per-supplier) figure of
  ``summary.json``: ``order_share_last_30_days.entrant``, ``cash_final_yuan.incumbent``.
* ``COLUMN@FROM-TO``: the mean over days FROM to TO (both included, day 0 is the first) of a
  column of the ``daily`` table: ``adoption_rate@0-89``. ``FROM-`` runs to the last day.
* ``COLUMN.PLATFORM@FROM-TO``: the same for one platform's column of the ``platforms`` table:
  ``order_share.entrant@90-150`` (the mean of the entrant's daily order share on days 90-150;
  ``share`` is short for ``order_share``).

Which summary figures exist is read from the source of :mod:`sim.records.summary` (the string
keys of its dict literals), so that names can be checked without running the model;
``tests/test_compare.py`` checks the list against a real run's summary.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Metric", "MetricError", "parse_metric", "read_metric", "summary_figures",
           "syntax_help"]

# Summary figures that are not numbers (a network's name, the list of platform exits, the
# shares of basket sizes 1, 2, ...).
NOT_NUMERIC = frozenset({"network", "platform_exits", "basket_size_shares"})
# Per-entity summary figures whose keys are not platforms.
NOT_PLATFORM_KEYS = {"produce_spoilage_rate_by_stage": "stage", "supplier_shock_days": "supplier"}
# Short names for the columns people ask for most.
ALIASES = {"share": "order_share"}
# Columns that identify a row rather than measure something.
ID_COLUMNS = frozenset({"day", "platform", "procurement"})

_PATTERN = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\.(?P<key>[A-Za-z0-9_]+))?"
                      r"(?:@(?P<lo>\d+)-(?P<hi>\d*))?$")


class MetricError(ValueError):
    """A metric name that does not exist or does not fit the runs (one line)."""


def syntax_help() -> str:
    return ("NAME (a summary.json figure), NAME.PLATFORM (a per-platform summary figure), "
            "COLUMN@FROM-TO (mean of a daily-table column over days FROM..TO), "
            "COLUMN.PLATFORM@FROM-TO (the same in the platforms table)")


@functools.cache
def summary_figures() -> tuple[frozenset, frozenset]:
    """(scalar figures, per-entity figures) of ``summary.json``, from the summary's source."""
    from sim import coupons
    from sim.records import economics, summary

    # summary.json's figures: the summary's own, the platforms' economics and the coupons'
    # (only coupon_summary: the rest of sim.coupons holds dicts that are not figures)
    tree = ast.Module(body=[*ast.parse(inspect.getsource(summary)).body,
                            *ast.parse(inspect.getsource(economics)).body,
                            *ast.parse(inspect.getsource(coupons.coupon_summary)).body],
                      type_ignores=[])
    # Local helpers that return a dict comprehension (margin30): their calls are maps too.
    makers = {f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
              and any(isinstance(r, ast.Return) and isinstance(r.value, ast.DictComp)
                      for r in ast.walk(f))}

    def is_map(v) -> bool:
        return isinstance(v, ast.DictComp) or (
            isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in makers)

    scalars, maps = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and isinstance(k.value, str):
                    (maps if is_map(v) else scalars).add(k.value)
        elif isinstance(node, ast.DictComp) and isinstance(node.generators[0].iter, ast.Tuple):
            # {k: None for k in ("a", "b")}: the names of an empty group of figures
            for elt in node.generators[0].iter.elts:
                if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                    scalars.add(elt.value)
    return frozenset(scalars - NOT_NUMERIC), frozenset(maps)


def _table_columns() -> tuple[list[str], list[str]]:
    from sim.records.recorder import DAILY_COLUMNS, PLATFORM_COLUMNS

    return ([c for c in DAILY_COLUMNS if c not in ID_COLUMNS],
            [c for c in PLATFORM_COLUMNS if c not in ID_COLUMNS])


@dataclass(frozen=True)
class Metric:
    """A parsed metric name (see the module docstring)."""

    text: str
    name: str
    key: str | None = None
    first_day: int | None = None
    last_day: int | None = None  # None with a window: to the last day

    @property
    def windowed(self) -> bool:
        return self.first_day is not None

    def label(self) -> str:
        """A readable label for a figure: ``order_share, entrant, days 90-150``."""
        parts = [self.name] + ([self.key] if self.key else [])
        if self.windowed:
            to = "end" if self.last_day is None else str(self.last_day)
            parts.append(f"days {self.first_day}-{to}, daily mean")
        return ", ".join(parts)


def _allowed_keys(name: str, cfg) -> list[str]:
    if name == "supplier_shock_days":
        return sorted(cfg.suppliers)
    if name == "produce_spoilage_rate_by_stage":
        from sim.coldchain.formulas import LOSS_STAGES

        return list(LOSS_STAGES)
    return list(cfg.platforms)


def _close(word: str, options) -> str:
    import difflib

    hit = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{hit[0]}'?)" if hit else ""


def parse_metric(text: str, cfgs=()) -> Metric:
    """Parse ``text`` and check it against the composed configs ``cfgs`` (A's and B's).

    Raises:
        MetricError: one line naming the metric and what is allowed.
    """
    m = _PATTERN.match(text.strip())
    if m is None:
        raise MetricError(f"metric {text!r}: not a metric name; write {syntax_help()}")
    name, key = m["name"], m["key"]
    if m["lo"] is not None:
        name = ALIASES.get(name, name)
    lo = None if m["lo"] is None else int(m["lo"])
    hi = None if not m["hi"] else int(m["hi"])
    metric = Metric(text.strip(), name, key, lo, hi)
    if metric.windowed:
        daily, plat = _table_columns()
        cols = plat if key else daily
        table = "platforms" if key else "daily"
        if name not in cols:
            raise MetricError(f"metric {text!r}: no column '{name}' in the {table} table"
                              f"{_close(name, cols)}; allowed: {', '.join(cols)}")
        if hi is not None and hi < lo:
            raise MetricError(f"metric {text!r}: the window {lo}-{hi} ends before it starts")
        for cfg in cfgs:
            if (hi if hi is not None else lo) >= int(cfg.days):
                raise MetricError(f"metric {text!r}: the runs have days 0-{int(cfg.days) - 1}; "
                                  "choose a window inside them")
    else:
        scalars, maps = summary_figures()
        if key is None and name not in scalars:
            hint = (f"; '{name}' is per platform: write {name}.PLATFORM" if name in maps
                    else _close(name, scalars | maps))
            raise MetricError(f"metric {text!r}: not a summary.json figure{hint}; allowed: "
                              + ", ".join(sorted(scalars)) + "; per platform: "
                              + ", ".join(f"{n}.KEY" for n in sorted(maps))
                              + "; or COLUMN@FROM-TO over days")
        if key is not None and name not in maps:
            raise MetricError(f"metric {text!r}: '{name}' has no entries by platform"
                              f"{_close(name, maps)}; per-platform figures: "
                              + ", ".join(sorted(maps)))
    if key is not None:
        for cfg in cfgs:
            allowed = (_allowed_keys(name, cfg) if not metric.windowed
                       else list(cfg.platforms))
            if key not in allowed:
                kind = NOT_PLATFORM_KEYS.get(name, "platform") if not metric.windowed \
                    else "platform"
                raise MetricError(f"metric {text!r}: no {kind} '{key}'{_close(key, allowed)}; "
                                  f"allowed: {', '.join(allowed)}")
    return metric


def read_metric(metric: Metric, run_dir: Path, cache: dict | None = None) -> float:
    """The value of ``metric`` for the run in ``run_dir`` (NaN where the run has none).

    ``cache`` (a dict) keeps the run's summary and tables between metrics of the same run.
    """
    cache = {} if cache is None else cache
    run_dir = Path(run_dir)

    def load(what: str):
        if what not in cache:
            if what == "summary":
                cache[what] = json.loads((run_dir / "summary.json").read_text())
            else:
                cache[what] = pd.read_parquet(run_dir / f"{what}.parquet")
        return cache[what]

    if not metric.windowed:
        v = load("summary").get(metric.name)
        if metric.key is not None:
            v = v.get(metric.key) if isinstance(v, dict) else None
        return float(v) if isinstance(v, int | float) and v is not None else np.nan
    if metric.key is None:
        df = load("daily")
    else:
        df = load("platforms")
        df = df[df["platform"] == metric.key]
    last = df["day"].max() if metric.last_day is None else metric.last_day
    window = df[(df["day"] >= metric.first_day) & (df["day"] <= last)]
    return float(window[metric.name].astype(float).mean()) if len(window) else np.nan


def read_series(metric: Metric, run_dir: Path, cache: dict | None = None) -> np.ndarray:
    """The daily values of a windowed ``metric``'s column (one platform's, if it names one),
    over the whole run: an array indexed by day."""
    cache = {} if cache is None else cache
    table = "platforms" if metric.key is not None else "daily"
    if table not in cache:
        cache[table] = pd.read_parquet(Path(run_dir) / f"{table}.parquet")
    df = cache[table]
    if metric.key is not None:
        df = df[df["platform"] == metric.key]
    return df.sort_values("day")[metric.name].to_numpy(float)
