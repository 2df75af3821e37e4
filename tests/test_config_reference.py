"""The reference of every config key (docs/config.md, sim/config/reference.py): current, and
every key says what it does (issue 32: "the README or ODD says what each remaining key does")."""

from __future__ import annotations

import re

from sim.config.reference import DOC, meanings, render, yaml_comments


def test_yaml_comments_go_with_their_keys(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text(
        "# The file's header: what the file is, not its first key.\n"
        "a:\n"
        "  # above b: goes with b\n"
        "  b: 1      # after b\n"
        "            #   and on below it\n"
        "  c: 2      # c's own\n"
        "  d: 3      #   goes on from c's\n"
        "  e: '#not a comment'\n"
        "f: [1, 2]   # f\n"
        "g: 1        # g's own\n"
        "h: 2        #   goes on over h\n"
        "            #   and below it\n")
    got = yaml_comments(f)
    assert got["a"] == ""
    assert got["a.b"] == "above b: goes with b after b and on below it"
    assert got["a.c"] == got["a.d"] == "c's own goes on from c's"
    assert got["a.e"] == ""
    assert got["f"] == "f"
    assert got["g"] == got["h"] == "g's own goes on over h and below it"


def test_the_reference_is_current():
    assert DOC.read_text() == render(), \
        "docs/config.md is out of date: python -m sim.config.reference --write"


def test_every_key_says_what_it_does():
    """Each key of the default scenario has a meaning in the schema (its comment there)."""
    rows = [ln for ln in DOC.read_text().splitlines() if ln.startswith("| `")]
    assert len(rows) > 150, "the reference lists the default scenario's keys"
    missing = [ln.split("|")[1].strip() for ln in rows
               if not ln.split("|")[4].strip()]
    assert not missing, (f"{len(missing)} keys do not say what they do (write a comment beside "
                         f"the field in sim/config/schema.py): {', '.join(missing)}")


def test_meanings_are_read_from_the_schema_source():
    m = meanings()
    assert m[("WomConfig", "p_external")] == "Bass innovation rate, per day"
    # a comment block above a field goes with it
    assert "market size" in m[("MarketConfig", "platform_money_households")]
    # the continuation of a field's comment is not the comment above the next field
    assert m[("LeaderConfig", "successor_search_days_town")].startswith("successor of a leader")
    assert all(re.match(r"^[A-Za-z]\w*Config$|^Config$", cls) for cls, _ in m)
