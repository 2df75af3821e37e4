"""The parameter field of the configuration schema (:mod:`sim.config.schema`)."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from omegaconf import MISSING

__all__ = ["P"]


def P(lo: float | None = None, hi: float | None = None, choices: str | tuple | None = None,
      default: Any = MISSING):
    """A parameter field: its allowed range or choices (a tuple or a registry name).

    No default: the value, and its source, are stated once, in the YAML under ``configs/``.
    ``default`` is only for keys that no YAML file sets (the parts of a scandal entry).
    """
    return field(default=default, metadata={"lo": lo, "hi": hi, "choices": choices})
