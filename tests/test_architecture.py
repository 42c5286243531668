"""The write path's shape, checked on the code itself (SPEC §0.3, STYLE.md)."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from .source_trees import syntax_tree

ROOT = Path(__file__).resolve().parent.parent / "kefu"
# Discovered, not listed: every app with models of its own (the core's are infrastructure) …
DOMAIN_APPS = sorted(p.parent.name for p in ROOT.glob("*/models.py") if p.parent.name != "core")
# … and every module that writes: each app's services and any module holding an action.
SERVICE_MODULES = sorted(
    ".".join(p.relative_to(ROOT.parent).with_suffix("").parts)
    for p in ROOT.rglob("*.py")
    if "migrations" not in p.parts
    and "management" not in p.parts
    and "demo" not in p.parts  # the demo loader drives actions; it is not a module of the product
    and (p.name == "services.py" or "@action(" in p.read_text("utf-8"))
    and p.name != "actions.py"
)
# Public functions in those modules that write nothing (pure decisions, reads, helpers).
READS = {
    "urge_text",
    "case_can_transition",
    "case_decision",
    "shipping_judgement",
    "red_packet_owed",
    "responsible_agent",
    "money_amount",
    "token_authenticate",  # sign-in lookup; its last-used stamp is not a state change of the timeline
    "token_remembered",  # the same lookup answered from this process's memory
    "tokens_forget",  # empties that memory
    "policy_in_force",
    "policy_versions",
    "policy_cache_clear",
    "signed_url",
    "robot_send",  # called only by the outbox handler after commit
    "publication_text",
    "publication_due",
    "latest_slot",  # reads: when the last publication slot was, which week it covers, whether it ran
    "week_before",
    "published",
    "report_xlsx",
    # desk: reads kept beside the writes they serve, Redis flags, derived data and batch drivers
    "access_conversation_by_id",
    "no_sale_reasons",
    "queues_for",
    "urge_script",
    "text_storable",
    "channel_default",  # creates a built-in channel left without (admin data, first use)
    "channel_for_pusher",  # creates a team's push channel on its first push (admin data, first use)
    "wake_placer",
    "place_flag_clear",
    "script_used",  # a use counter, not a state change
    "kpi_rollup",  # derived sums of stored messages, recomputed at will
    "inbound_prune",  # forgets accepted messages already placed, after their window
    "kpi_rollup_due",
    "kpi_days_paid_into",  # marks derived sums stale, inside the transaction that records the payments
    "daily_summaries_due",
    "parameters_parse",  # parses a form's text; the write is product_knowledge_set
    "statuses_ensure",  # creates the default labels of a category left without (admin data, first use)
    # batch drivers of scheduled jobs: each item is its own action (one failure does not undo the rest)
    "red_packets_double_overdue",
    "deadlines_escalate",
    "deadlines_sweep",
    "connector_sync",  # a platform's pages, each landed through the import service of its kind (an action)
    # the workflow core: a pure question, the fields a new record starts with, and its default
    # status labels created on first use (admin data)
    "can_transition",
    "open_fields",
    "default_label",
    "labels_ensure",
    # the outbox: a message row joins the calling action's transaction; the worker's delivery loop
    # (each message its own transaction); the handler registry
    "outbox_put",
    "outbox_drain",
    "outbox_handler",
}


@pytest.mark.parametrize("module_name", SERVICE_MODULES)
def test_every_service_write_is_an_action(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = [
        name
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module_name
        and not name.startswith("_")
        and name not in READS
        and not getattr(fn, "__kefu_action__", False)
    ]
    assert not missing, f"{module_name}: writes outside the action mechanism: {missing}"


def _edge_modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if p.name in {"views.py", "api.py"})


@pytest.mark.parametrize("path", _edge_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_views_and_api_never_touch_managers(path: Path) -> None:
    """Views and API handlers resolve ids through ``access_*_by_id`` selectors and write through
    services: no ``Model.objects`` in them (the scope is applied in one place)."""
    tree = syntax_tree(path)
    uses = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "objects"]
    assert not uses, f"{path.relative_to(ROOT)} uses .objects on lines {uses}"


WRITES = {"create", "update", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create", "save"}


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_domain_apps_do_not_write_each_others_models(app: str) -> None:
    """An app may read another app's models but changes them only through that app's services."""
    foreign: dict[str, str] = {}
    offences = []
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = syntax_tree(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith(".models"):
                owner = node.module.split(".")[1] if node.module.startswith("kefu.") else app
                if owner != app and owner in DOMAIN_APPS:
                    for alias in node.names:
                        foreign[alias.asname or alias.name] = owner
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in WRITES:
                continue
            base = node.func.value
            # Model.objects.<write>(…) or Model.objects.filter(…).<write>(…)
            while isinstance(base, ast.Call | ast.Attribute):
                base = base.func if isinstance(base, ast.Call) else base.value
            if isinstance(base, ast.Name) and base.id in foreign:
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} {base.id}.…{node.func.attr}()")
    assert not offences, offences


def test_every_error_code_raised_is_declared_and_documented() -> None:
    """A code in ``ApplicationError("…")``, a PermissionDenied ``code=`` or the API's own answers
    must be an ErrorCode member with its meaning — and docs/errors.md lists them all."""
    import re

    from kefu.core.errors import ERROR_MEANINGS, ErrorCode, error_codes_markdown

    pattern = re.compile(r'(?:ApplicationError\(\s*|_error\(request, \d+, |api_error\([^)]*code=|code=)"([a-z_]+)"')
    used: set[str] = set()
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        used |= set(pattern.findall(path.read_text("utf-8")))
    declared = {code.value for code in ErrorCode}
    assert used - declared == set(), f"undeclared error codes: {sorted(used - declared)}"
    assert set(ERROR_MEANINGS) == set(ErrorCode), "every code needs its meaning"
    doc = (ROOT.parent / "docs" / "errors.md").read_text("utf-8")
    assert doc == error_codes_markdown(), "docs/errors.md is stale: run `python manage.py errorcodes`"


def test_templates_have_no_inline_handlers() -> None:
    """The CSP (script-src 'self') refuses inline event handlers: behaviour goes in kefu.js."""
    import re

    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in ROOT.rglob("*.html")
        for n, line in enumerate(p.read_text().splitlines(), start=1)
        if re.search(r"\son[a-z]+\s*=", line)
    ]
    assert not offenders, offenders


def _chain_root(node: ast.AST) -> str:
    """The name a call chain starts from: ``Case.objects.filter(…).update`` → ``Case``."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def test_status_and_assignee_of_workflow_records_are_written_only_by_the_workflow_core() -> None:
    """Issue 19 §2: one write path for a record's status and its person. Every registered workflow
    (discovered) is checked: no module but the core UPDATEs their status or assignee, in a query,
    a bulk update or a save of named fields. (Creating a record with its first label is not a move.)"""
    from kefu.workflow import registry

    flows = registry.all_workflows()
    models = {flow.model_class().__name__ for flow in flows}
    guarded = {"status", "status_id"} | {n for f in flows for n in (f.assignee_field, f.assignee_field + "_id")}
    assert {"Conversation", "Case", "Complaint", "ServiceRequest"} <= models
    offences = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts or path.parent.name in {"workflow", "policies"}:  # policies: no models
            continue
        for node in ast.walk(syntax_tree(path)):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute | ast.Name):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            written: set[str] = set()
            if name == "update" and _chain_root(node.func) in models:
                written = {kw.arg for kw in node.keywords if kw.arg}
            elif name == "update_rows" and node.args and _chain_root(node.args[0]) in models and len(node.args) > 1:
                columns = node.args[1]
                if isinstance(columns, ast.Name):  # a module constant: read its literal
                    written = guarded & set(ast.literal_eval(_constant(path, columns.id)))
                elif isinstance(columns, ast.List):
                    written = {c.value for c in columns.elts if isinstance(c, ast.Constant)}
            elif name == "save":
                for kw in node.keywords:
                    if kw.arg == "update_fields" and isinstance(kw.value, ast.List | ast.Tuple):
                        written = {c.value for c in kw.value.elts if isinstance(c, ast.Constant)}
            if written & guarded:
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} writes {sorted(written & guarded)}")
        offences += _other_writes(path, guarded)
    assert offences == [], offences


def _other_writes(path: Path, guarded: set[str]) -> list[str]:
    """The other shapes a status or person write can take: ``x.status = …`` (then a save),
    ``bulk_update(…, ["status"])`` and ``.update(**{"status_id": …})`` or ``.update(status=…)`` on
    any queryset (a related manager, ``type(x).objects``). Another model's ``status`` (an order's, a
    money line's) is read from the platforms or its own ledger: those are allowed by their names."""
    found = []
    for node in ast.walk(syntax_tree(path)):
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for t in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(t, ast.Attribute) and t.attr in guarded and _subject(t.value) not in OTHER_STATUS:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} sets .{t.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name == "bulk_update" and len(node.args) > 1 and isinstance(node.args[1], ast.List | ast.Tuple):
                cols = {c.value for c in node.args[1].elts if isinstance(c, ast.Constant)}
                if cols & guarded:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} bulk_update {sorted(cols & guarded)}")
            if name == "update" and _chain_root(node.func) not in OTHER_STATUS:
                keys = {kw.arg for kw in node.keywords if kw.arg} & {"status", "status_id"}
                keys |= {
                    k.value
                    for kw in node.keywords
                    if kw.arg is None and isinstance(kw.value, ast.Dict)
                    for k in kw.value.keys
                    if isinstance(k, ast.Constant) and k.value in guarded
                }
                if keys:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} update {sorted(keys)}")
    return found


def _subject(node: ast.AST) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


# records whose status is not a workflow's: an order's comes from the platform, a money line's and a
# leave request's are decisions of their own ledgers, a chase's, a plan item's and a script's are states
OTHER_STATUS = {
    "Order",
    "order",
    "MoneyLine",
    "line",
    "LeaveRequest",
    "request",
    "req",
    "CourierClaim",
    "claim",
    "PaymentChase",
    "chase",
    "PlanItem",
    "Script",
    "script",
    "ImportRun",
    "run",
    "grant",
    "self",
    "o",
}


def _constant(path: Path, name: str) -> str:
    for node in syntax_tree(path).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.unparse(node.value)
    raise LookupError(f"{name} not found in {path}")


# Views that catch a refusal themselves, and why (every other form post goes through web.http.form_post)
OWN_REFUSALS = {
    ("aftersales", "refunds_approve"),  # a batch: each refused line is reported and the others approved
    ("reports", "report"),  # a GET: a malformed filter is shown above the report run with none
    ("service", "request_new"),  # Django forms: the refusal is shown on the form beside its fields
    ("service", "agreements"),
    ("web", "imports"),
    ("web", "policy_new"),
}


@pytest.mark.parametrize("path", sorted(ROOT.glob("*/views.py")), ids=lambda p: p.parent.name)
def test_form_posts_take_refusals_through_the_one_helper(path: Path) -> None:
    """Issue 19 §4: a page's form post runs its action through ``form_post`` (a refusal becomes the
    page's message or, for htmx, the answer's text); the few that differ are listed with why."""
    found = []
    for fn in ast.walk(syntax_tree(path)):
        if isinstance(fn, ast.FunctionDef) and (path.parent.name, fn.name) not in OWN_REFUSALS:
            for node in ast.walk(fn):
                if isinstance(node, ast.ExceptHandler) and "ApplicationError" in ast.unparse(node.type or ast.Name("")):
                    found.append(f"{fn.name}:{node.lineno}")
    assert found == []
