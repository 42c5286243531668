"""The zh-Hans catalogue is complete and the committed .mo matches the .po (msgfmt output is committed)."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "kefu" / "locale" / "zh_Hans" / "LC_MESSAGES"


def _po_entries() -> dict[str, str]:
    entries = {}
    for block in LOCALE.joinpath("django.po").read_text("utf-8").split("\n\n"):
        if "#, fuzzy" in block and 'msgid ""\nmsgstr ""\n"Project' not in block:
            raise AssertionError(f"fuzzy entry left in the catalogue: {block[:120]}")
        m = re.search(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block + "\n", re.M)
        if not m:
            continue

        def join(part: str) -> str:
            return "".join(ast.literal_eval(x) for x in re.findall(r'"(?:[^"\\]|\\.)*"', part))

        msgid = join(m.group(1))
        if msgid:
            entries[msgid] = join(m.group(2))
    return entries


def test_every_string_is_translated() -> None:
    untranslated = [msgid for msgid, msgstr in _po_entries().items() if not msgstr]
    assert untranslated == [], untranslated[:10]


def test_compiled_catalogue_matches_the_source() -> None:
    with LOCALE.joinpath("django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, msgstr in _po_entries().items():
        assert compiled.gettext(msgid) == msgstr, f"stale django.mo for {msgid!r}: run `make messages`"
