"""The zh-Hans catalogue is complete and the committed .mo matches the .po (msgfmt output is committed)."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "kefu" / "locale" / "zh_Hans" / "LC_MESSAGES"


def _po_entries() -> dict[tuple[str, str], str]:
    """(context, msgid) → msgstr; the context is "" for a msgid without msgctxt."""
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
        ctx = re.search(r'^msgctxt "(.*)"$', block, re.M)
        if msgid:
            entries[(ctx.group(1) if ctx else "", msgid)] = join(m.group(2))
    return entries


def test_every_string_is_translated() -> None:
    untranslated = [msgid for msgid, msgstr in _po_entries().items() if not msgstr]
    assert untranslated == [], untranslated[:10]


def test_compiled_catalogue_matches_the_source() -> None:
    with LOCALE.joinpath("django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for (ctx, msgid), msgstr in _po_entries().items():
        found = compiled.pgettext(ctx, msgid) if ctx else compiled.gettext(msgid)
        assert found == msgstr, f"stale django.mo for {msgid!r}: run `make messages`"


KEFU = Path(__file__).resolve().parent.parent / "kefu"
# "中文 / English" in one literal: a message written twice instead of once through gettext.
BILINGUAL = re.compile(r"[\u4e00-\u9fff][^\"'\n]*\s/\s[{A-Za-z]|[\u4e00-\u9fff][^\n]*\s/\s\"\s*$")


def test_no_bilingual_message_literals() -> None:
    offenders = []
    for path in KEFU.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if BILINGUAL.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(KEFU)}:{number}: {line.strip()[:80]}")
    assert offenders == [], offenders


def test_messages_follow_the_language(settings: object) -> None:
    """The same refusal reads in Chinese by default and in English when English is chosen — the
    pure readers' messages included (they reach Django's gettext through kefu.policies.i18n)."""
    from django.utils import translation

    from kefu.imports.tabular import parse_decimal

    def message() -> str:
        try:
            parse_decimal("-5", what="实付金额")
        except ValueError as exc:
            return str(exc)
        raise AssertionError("a negative amount was accepted")

    with translation.override("zh-hans"):
        assert "不能为负数" in message()
    with translation.override("en"):
        assert "cannot be negative" in message()


def test_day_counts_read_as_english_and_chinese() -> None:
    """English says "1 day" but "0.5 days" and "3 days"; Chinese has the one form "1 天"."""
    from decimal import Decimal

    from django.utils import translation

    from kefu.policies.i18n import days

    with translation.override("en"):
        assert days(1) == "1 day"
        assert days(Decimal("1.00")) == "1 day"
        assert days(Decimal("0.5")) == "0.5 days"
        assert days(Decimal("3.0")) == "3 days"
    with translation.override("zh-hans"):
        assert days(1) == "1 天"
        assert days(Decimal("1.50")) == "1.5 天"


def test_durations_read_as_people_read_a_wait() -> None:
    """Issue 18: KPI times read "327.29 秒" and "2071 分钟"; they read as minutes and seconds, hours
    and minutes."""
    from django.utils import translation

    from kefu.web.templatetags.kefu import duration, minutes_duration

    with translation.override("zh-hans"):
        assert duration("327.29") == "5 分 27 秒"
        assert minutes_duration(2071) == "34 小时 31 分"
        assert duration(45) == "45 秒" and duration(None) == "—"
    with translation.override("en"):
        assert duration("327.29") == "5 min 27 s"


def test_every_declared_word_has_its_chinese() -> None:
    """Review of issue 19: a policy number added with an English label showed English in the
    Chinese editor and no test noticed. Every label a module declares — its policy fields and
    tables, capabilities, rule texts, event verbs, field and code labels — reads in Chinese."""
    import re

    from django.utils import translation

    from kefu.core import rulebook, wording
    from kefu.web import policy_fields

    def english(text: object) -> bool:
        return bool(re.search(r"[A-Za-z]{3,}", str(text))) and not re.search(r"[\u4e00-\u9fff]", str(text))

    with translation.override("zh-hans"):
        from kefu.policies import handbook

        doc = handbook.load_preset()
        words = [f["label"] for s in policy_fields.field_rows(doc) for f in s["fields"]]
        words += [t["title"] for t in policy_fields.table_rows(doc)]
        words += [c for t in policy_fields.table_rows(doc) for c in t["columns"]]
        words += [c.description for c in rulebook.REGISTRY.capabilities.values()]
        words += list(rulebook.rule_texts().values())
        words += list(wording.VERBS.values()) + list(wording.FIELDS.values())
        found = sorted({str(w) for w in words if english(w)})
    assert found == [], found
