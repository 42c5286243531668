"""Each module declares its rules in its own ``rules.py`` (issue 19): its policy section as a typed
schema, its capabilities, its rule ids with their texts and its event verbs. These tests discover
what the code uses and check that it is declared, so nothing can be added without its declaration."""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import pytest
from django.utils.translation import gettext_lazy as _

from kefu.core import rulebook
from kefu.core.policy_store import policy_in_force
from kefu.core.rulebook import Capability, ModuleRules, Section, setting, whole
from kefu.policies import handbook
from kefu.web import policy_fields

from .source_trees import syntax_tree

ROOT = Path(__file__).resolve().parent.parent
KEFU = ROOT / "kefu"
SPEC = ROOT.parent / "shared" / "SPEC.md"
# SPEC sections whose modules are not built yet (issue 22: staffing forecast and quality assurance)
NOT_BUILT: tuple[str, ...] = ()
EDGES = {"api", "reports"}  # the JSON API's assembly and the report registry: no rules of their own
APPS = sorted(p.parent.name for p in KEFU.glob("*/apps.py"))


def _sources() -> Iterator[tuple[Path, str]]:
    for path in KEFU.rglob("*.py"):
        if "migrations" not in path.parts:
            yield path, path.read_text("utf-8")


def test_every_app_declares_its_rules_in_its_own_module() -> None:
    """One place per module: kefu/<app>/rules.py, registered by the app when it starts."""
    modules = [app for app in APPS if app not in EDGES]
    assert [app for app in modules if not (KEFU / app / "rules.py").exists()] == []
    assert set(rulebook.REGISTRY.modules) >= set(modules)


def test_every_spec_rule_id_is_registered_with_a_text() -> None:
    # the SPEC beside the checkout, else the snapshot of its ids committed with the tests (CI)
    source = SPEC if SPEC.exists() else Path(__file__).with_name("spec_rule_ids.txt")
    ids = set(re.findall(r"\bR-[A-Z]+-\d+\b", source.read_text("utf-8")))
    assert len(ids) >= 66
    cited = {m for _p, text in _sources() for m in re.findall(r"\bR-[A-Z]+-\d+\b", text)}
    texts = rulebook.rule_texts()
    assert len(cited) > 50
    wanted = {i for i in ids | cited if not i.startswith(NOT_BUILT)}
    assert sorted(wanted - set(texts)) == []
    assert all(str(texts[i]).strip() for i in wanted)


def _literal_verbs() -> set[str]:
    r"""Every verb written in a ``verb=`` argument: enum members, literals, both sides of a conditional, and an
    f-string as a pattern ("request.{status}" → ``request\..*``) that a declared verb must fit."""
    found: set[str] = set()

    members = {
        member.name: member.value
        for module in rulebook.REGISTRY.modules.values()
        if module.verbs is not None
        for member in module.verbs
    }

    def take(value: ast.expr) -> None:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.add(re.escape(value.value))
        elif isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "Verb":
            found.add(re.escape(members.get(value.attr, f"undeclared:{value.attr}")))
        elif isinstance(value, ast.IfExp):
            take(value.body)
            take(value.orelse)
        elif isinstance(value, ast.JoinedStr):
            found.add(
                "".join(
                    re.escape(v.value) if isinstance(v, ast.Constant) and isinstance(v.value, str) else r"[\w.]+"
                    for v in value.values
                )
            )

    for path, _text in _sources():
        for node in ast.walk(syntax_tree(path)):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "verb":
                        take(kw.value)
    return found


def test_every_event_verb_written_in_the_code_is_declared() -> None:
    """The test settings also refuse an undeclared verb at the moment it is recorded (KEFU_REFUSE_
    UNDECLARED_VERBS), so every verb the whole suite records is declared too."""
    patterns = _literal_verbs()
    declared = [v.replace("*", "x") for v in rulebook.verbs()]
    assert len(patterns) > 60
    missing = [
        p
        for p in patterns
        if not any(re.fullmatch(p, v) for v in declared)
        and not ("[" not in p and rulebook.verb_declared(re.sub(r"\\(.)", r"\1", p)))
    ]
    assert sorted(missing) == []


def test_recording_an_undeclared_verb_is_refused_in_the_suite() -> None:
    from kefu.core.events import event_record

    with pytest.raises(ValueError, match="not declared"):
        event_record(actor=None, verb="case.vanished")


def _capabilities_used() -> set[str]:
    names: set[str] = set()
    calls = {"has_capability", "require", "require_capability", "by_position", "staff_holds", "grant_source"}
    for path, _text in _sources():
        for node in ast.walk(syntax_tree(path)):
            if not isinstance(node, ast.Call):
                continue
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            args = [*node.args, *(kw.value for kw in node.keywords if kw.arg == "capability")]
            if func in calls or func == "action" or any(kw.arg == "capability" for kw in node.keywords):
                for arg in args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and "." in arg.value:
                        names.add(arg.value)
    return names


def test_every_capability_the_code_asks_for_is_declared_by_a_module() -> None:
    used = _capabilities_used()
    declared = rulebook.capabilities()
    assert len(used) > 20
    assert sorted(used - set(declared)) == []
    # and each names the positions that hold it and says what it allows
    assert all(c.positions and str(c.description) for c in declared.values())


def test_a_capability_declared_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="declared by both"):
        rulebook.register(
            ModuleRules(module="impostor", capabilities={"refund.approve": Capability(frozenset({"supervisor"}))})
        )
    rulebook.REGISTRY.modules.pop("impostor", None)


@pytest.mark.django_db
def test_code_reads_the_policy_typed() -> None:
    policy = policy_in_force()
    assert policy.desk.idle_flag_minutes == 10
    assert policy.attendance.full_attendance_bonus == Decimal("200.00")
    assert [s.code for s in policy.attendance.shift_types] == ["day", "night"]
    assert policy.leave.rest_days_per_month == 2
    with pytest.raises(AttributeError):
        policy.no_such_section  # noqa: B018


def test_no_app_reads_a_policy_value_by_string_key() -> None:
    """``policy.desk.idle_flag_minutes``, never ``document["desk"]["idle_flag_minutes"]`` (the pure
    rule functions in kefu/policies take the document they are given)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path, text in _sources()
        if "policies" not in path.parts and path.name != "policy_store.py"
        for n, line in enumerate(text.splitlines(), start=1)
        if re.search(r"\.document\[\"\w+\"\]", line)
    ]
    assert offenders == []


class _Bonus(Section):
    title = _("Probe")
    night_bonus: Annotated[int, whole(0, 500)] = setting(_("Night bonus (CNY)"), rule="R-WF-1")
    reminder_minutes: Annotated[int, whole(0, 60)] = setting(_("Reminder (minutes)"), rule="R-DESK-2", default=15)


@pytest.fixture
def probe_module() -> Iterator[None]:
    names = ("modules", "sections", "capabilities", "rules", "verbs", "owner")
    saved = {name: dict(getattr(rulebook.REGISTRY, name)) for name in names}
    rulebook.register(ModuleRules(module="probe", order=99, policy={"probe": _Bonus}))
    try:
        yield
    finally:
        for name in names:
            setattr(rulebook.REGISTRY, name, saved[name])


def test_a_policy_number_added_in_one_module_is_validated_edited_and_read(probe_module: None) -> None:
    """Adding a policy number is one line in a module's rules.py: the validator, the editor's form
    and typed reading follow from the schema with nothing else touched."""
    doc = copy.deepcopy(handbook.load_preset())
    doc["probe"] = {"night_bonus": 600}
    assert rulebook.policy_problems(doc) == ["probe.night_bonus: 必须是 0 到 500 之间的整数 (当前为 600)"]
    doc["probe"]["night_bonus"] = 30
    assert rulebook.policy_problems(doc) == []
    (section,) = [s for s in policy_fields.field_rows(doc) if str(s["title"]) == "Probe"]
    # a setting with a default needs no value in the preset or in versions saved before it
    assert [(f["name"], f["value"], f["rule"]) for f in section["fields"]] == [
        ("probe.night_bonus", 30, "R-WF-1"),
        ("probe.reminder_minutes", 15, "R-DESK-2"),
    ]
    assert rulebook.typed_section("probe", doc["probe"]).reminder_minutes == 15
    posted = policy_fields.apply_fields(doc, {"probe.night_bonus": "45", "probe.reminder_minutes": "20"})
    assert posted["probe"] == {"night_bonus": 45, "reminder_minutes": 20}
    assert rulebook.typed_section("probe", posted["probe"]).night_bonus == 45


def test_the_form_is_generated_from_the_schemas() -> None:
    doc = handbook.load_preset()
    names = {f["name"] for s in policy_fields.field_rows(doc) for f in s["fields"]}
    assert {"desk.idle_flag_minutes", "attendance.full_attendance_bonus", "service.on_site_hours"} <= names
    assert "aftersales.partial_refund_cap" not in names  # editable=False: TOML only
    tables = {t["name"]: t for t in policy_fields.table_rows(doc)}
    assert {"attendance.shift_types", "attendance.late_tiers", "points.items", "desk.platforms"} <= set(tables)
    assert len(tables["attendance.late_tiers"]["rows"]) == 4 + policy_fields.BLANK_ROWS
    # every editable field names the rule it comes from, and the rule has a text
    texts = rulebook.rule_texts()
    assert all(f["rule"] in texts for s in policy_fields.field_rows(doc) for f in s["fields"])


def _actions() -> list[tuple[str, object]]:
    """Every action of every module, found by importing each module of kefu/ (nothing hand-listed)."""
    import importlib

    found = []
    for path in KEFU.rglob("*.py"):
        if "migrations" in path.parts or path.name.startswith("__") or "management" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        module = importlib.import_module(name)
        for attr, fn in vars(module).items():
            if getattr(fn, "__kefu_action__", False) and getattr(fn, "__module__", "") == name:
                found.append((f"{name}.{attr}", fn))
    return found


def test_every_action_names_a_capability_or_says_why_it_needs_none() -> None:
    """A declared capability, or OPERATOR (a job), OWN (a person's own records) or WORKFLOW (the
    workflow core, whose records' workflow names the capability)."""
    from kefu.core import actions

    found = _actions()
    assert len(found) > 100
    allowed = set(rulebook.capabilities()) | {actions.OPERATOR, actions.OWN, actions.WORKFLOW}
    assert sorted(name for name, fn in found if getattr(fn, "__kefu_capability__", None) not in allowed) == []
    own = sorted(name.rsplit(".", 1)[1] for name, fn in found if fn.__kefu_capability__ == actions.OWN)  # type: ignore[attr-defined]
    assert own == [
        "hit_appeal",  # an agent appeals their own quality hit (R-QA-2)
        "presence_set",
        "red_packet_mark_sent",
        "request_create",
        "request_submit",
        "token_create",
        "token_revoke",
    ]


@pytest.mark.django_db
def test_operators_pass_a_capability_and_people_need_it(django_user_model: Any) -> None:
    from kefu.core import actions
    from kefu.core.errors import PermissionDenied
    from kefu.core.events import SystemActor

    @actions.action(capability="refund.delegate")
    def grant(*, actor: Any) -> str:
        return "done"

    @actions.action(capability=actions.OPERATOR)
    def job(*, actor: Any = None) -> str:
        return "ran"

    person = django_user_model.objects.create_user(username="nobody", password="x")
    assert grant(actor=None) == "done" and grant(actor=SystemActor("cli")) == "done"
    with pytest.raises(PermissionDenied):
        grant(actor=person)
    assert job() == "ran"
    with pytest.raises(PermissionDenied):
        job(actor=person)


@pytest.mark.django_db
def test_a_version_saved_before_a_rule_grew_stricter_still_reads(caplog: pytest.LogCaptureFixture) -> None:
    """Review finding: a stored version with a 41-character point code (the old validator had no
    limit) made the points page a 500. The refused value reads as the preset's, with a warning."""
    import datetime as dt

    from kefu.core import policy_store
    from kefu.core.models import PolicyVersion

    doc = copy.deepcopy(handbook.load_preset())
    doc["points"]["items"][0]["code"] = "x" * 41
    doc["attendance"]["shift_types"][0]["name"] = "长" * 21
    PolicyVersion.objects.create(
        name="old",
        version=2,
        effective_from=dt.date(2026, 1, 1),
        document=doc,
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    policy_store.policy_cache_clear()
    policy = policy_in_force(dt.date(2026, 11, 1))
    assert policy.version == 2
    assert policy.points.items[0].code == "dress"  # the preset's, not the refused one
    assert [s.name for s in policy.attendance.shift_types] == ["白班", "晚班"]
    assert policy.leave.rest_days_per_month == 2  # the rest of the version reads as saved
    assert "refused by the schema" in caplog.text


@pytest.mark.django_db
def test_the_policy_page_shows_the_sections_it_has_no_layout_for(client: Any, django_user_model: Any) -> None:
    """Review finding: the read page was hand-made and never showed the desk's or care's numbers."""
    from kefu.org.models import Position, Staff

    user = django_user_model.objects.create_user(username="boss2", password="pw-secret-123")
    Staff.objects.create(employee_no="B2", name="主管", position=Position.SUPERVISOR, user=user)
    client.force_login(user)
    page = client.get("/policy/").content.decode()
    assert 'data-testid="policy-desk"' in page and 'data-testid="policy-care"' in page
    assert "空挂提醒(分钟)" in page and "新客户首次联系期限（天）" in page  # labelled by the schemas


def test_code_names_event_verbs_by_their_modules_enum_members() -> None:
    """Issue 19 §1: a verb in the code is ``Verb.CASE_OPENED`` (a typo is a mypy error), never a
    string; only the workflow core composes ``<prefix>.status_changed`` for every module."""
    literal = []
    for path, _text in _sources():
        for node in ast.walk(syntax_tree(path)):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "verb" and isinstance(kw.value, ast.Constant):
                        literal.append(f"{path.relative_to(KEFU)}:{kw.value.lineno} {kw.value.value}")
    assert literal == []


def test_the_editor_reads_amounts_as_typed_and_offers_the_platforms_by_name() -> None:
    """Review of issue 19: "¥1,250.00" and full-width digits are the amount they say; a platform is
    chosen from the shops' platforms by name (an unknown code is refused beside its cell); a window
    that is not two times says so in words."""
    doc = handbook.load_preset()
    posted = {"attendance.offduty_makeup_red_packet": "¥１,250.00"}
    new = policy_fields.apply_fields(doc, posted)
    assert new["attendance"]["offduty_makeup_red_packet"] == "1250.00"
    again = policy_fields.apply_fields(doc, {"attendance.offduty_makeup_red_packet": "¥12.345"})
    assert again["attendance"]["offduty_makeup_red_packet"] == (
        "¥12.345"  # not an amount of cents: kept as typed for validation to name
    )
    platforms = {t["name"]: t for t in policy_fields.table_rows(doc)}["desk.platforms"]
    cell = platforms["rows"][0]["cells"][0]
    assert cell["value"] == "taobao" and ("taobao", "淘宝") in [(c, str(lab)) for c, lab in cell["choices"]]
    broken = copy.deepcopy(doc)
    broken["desk"]["platforms"] = [{"platform": "ebay", "window": ["08:00", "20:00"], "no_reply_after_minutes": 0}]
    problems = [str(p) for p in rulebook.policy_problems(broken)]
    assert any(p.startswith("desk.platforms[1].platform") for p in problems), problems
    broken["desk"]["platforms"][0].update(platform="taobao", window=["08:00", "nine"])
    problems = [str(p) for p in rulebook.policy_problems(broken)]
    assert any("08:00、24:00" in p and "[" not in p.partition(": ")[2] for p in problems), problems
