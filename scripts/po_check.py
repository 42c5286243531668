"""The zh-Hans catalogue is the source of the translations (issue 19): translators edit
kefu/locale/zh_Hans/LC_MESSAGES/django.po directly (any .po editor, or polib). After
``makemessages`` this lists what is left to translate — new msgids, and fuzzy guesses, which are
not translations and are reset to empty — and exits 1 when anything is.

usage: python scripts/po_check.py kefu/locale/zh_Hans/LC_MESSAGES/django.po
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path


def _unfuzzy(entry: str) -> str:
    """A fuzzy guess by makemessages, reset: flag, previous msgid and guessed msgstr dropped."""
    entry = re.sub(r"(?m)^#, fuzzy\n", "", entry).replace("#, fuzzy, ", "#, ")
    entry = re.sub(r"(?ms)^#\| .*?\n", "", entry)
    return re.sub(r'(?s)msgstr ".*', 'msgstr ""', entry)


def main() -> int:
    po_path = Path(sys.argv[1])
    entries = po_path.read_text("utf-8").split("\n\n")
    left = []
    for i, entry in enumerate(entries):
        if "#, fuzzy" in entry and not entry.startswith("# SOME DESCRIPTIVE"):
            entries[i] = entry = _unfuzzy(entry)
        m = re.search(r'^msgid ((?:".*"\n?)+)msgstr ""\s*\Z', entry, re.M)
        if m:
            msgid = "".join(ast.literal_eval(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', m.group(1)))
            if msgid:
                left.append(msgid)
    po_path.write_text("\n\n".join(entries), "utf-8")
    for msgid in left:
        print("untranslated:", msgid[:100])
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
