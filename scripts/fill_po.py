"""Fill untranslated entries of a .po file from a {msgid: msgstr} table (a helper for translators).

usage: python scripts/fill_po.py kefu/locale/zh_Hans/LC_MESSAGES/django.po TABLE.py
TABLE.py defines T = {...}. Entries already translated are kept; unknown ones are listed.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path


def _unfuzzy(entry: str) -> str:
    """Drop the fuzzy flag, alone (``#, fuzzy``) or among others (``#, fuzzy, python-format``)."""
    return re.sub(r"(?m)^#, fuzzy\n", "", entry).replace("#, fuzzy, ", "#, ")


def main() -> None:
    po_path, table_path = Path(sys.argv[1]), Path(sys.argv[2])
    table: dict[str, str] = {}
    tree = ast.parse(table_path.read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "T":
            table = ast.literal_eval(node.value)
    text = po_path.read_text("utf-8")
    entries = text.split("\n\n")
    missing = []
    for i, entry in enumerate(entries):
        if "#, fuzzy" in entry and not entry.startswith("# SOME DESCRIPTIVE"):
            # A fuzzy guess by makemessages is not a translation: start that entry again.
            entry = re.sub(r"(?ms)^#\| .*?\n", "", _unfuzzy(entry))
            entry = re.sub(r'(?s)msgstr ".*', 'msgstr ""', entry)
            entries[i] = entry
        m = re.search(r'^msgid ((?:".*"\n?)+)msgstr ""\s*$', entry, re.M)
        if not m:
            continue
        msgid = "".join(ast.literal_eval(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', m.group(1)))
        if not msgid:
            continue
        if msgid in table:
            msgstr = table[msgid].replace("\\", "\\\\").replace('"', '\\"')
            entries[i] = entry[: m.start()] + f'msgid {m.group(1)}msgstr "{msgstr}"'
            entries[i] = _unfuzzy(entries[i])
        else:
            missing.append(msgid)
    po_path.write_text("\n\n".join(entries), "utf-8")
    for msgid in missing:
        print("untranslated:", msgid[:80])


if __name__ == "__main__":
    main()
