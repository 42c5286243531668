"""Thin views: parse input, call one selector or service, render. One view serves a page and its htmx partial."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kefu.commerce.services import orders_import
from kefu.core import clock, context, plugins, rulebook, throttle, wording
from kefu.core import selectors as core_selectors
from kefu.core.errors import ApplicationError
from kefu.core.events import annotate
from kefu.core.pagination import keyset_page
from kefu.core.params import date_param, day_query, int_param
from kefu.core.policy_store import policy_in_force, policy_save, policy_versions
from kefu.core.scoping import scope_for
from kefu.org import selectors as org
from kefu.org.models import Shop
from kefu.org.permissions import has_capability
from kefu.org.services import staff_import
from kefu.policies import handbook
from kefu.workforce.services import attendance_import

from . import policy_fields
from .forms import LoginForm, PolicyForm, UploadForm
from .http import is_local_path, render_page_or_partial, require_capability, xlsx_download
from .preview import default_effective, policy_preview

# --- sign-in -------------------------------------------------------------------------------


def throttled_admin_login(login: Any) -> Any:
    """The admin's sign-in under the same throttle as ours (per username and per address)."""

    def view(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method != "POST":
            return login(request, extra_context)  # type: ignore[no-any-return]
        username, ip = request.POST.get("username", "")[:150], context.client_ip(request)
        if not throttle.login_attempt(username, ip):
            throttle.login_refused(username, ip)
            return HttpResponse(_("Too many failed sign-ins. Please wait 15 minutes and try again."), status=429)
        response = login(request, extra_context)
        if request.user.is_authenticated:
            throttle.login_succeeded(username, ip)
        return response  # type: ignore[no-any-return]

    return view


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("web:home")
    if not is_local_path(request, next_url):
        next_url = reverse("web:home")
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        ip = context.client_ip(request)
        if not throttle.login_attempt(username, ip):
            form.add_error(None, _("Too many failed sign-ins. Please wait 15 minutes and try again."))
            throttle.login_refused(username, ip)
            status = 429
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                form.add_error(None, _("Wrong username or password."))
                status = 400
            else:
                throttle.login_succeeded(username, ip)
                login(request, user)
                return HttpResponseRedirect(next_url)
    return render(request, "web/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


# --- home ------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    staff = org.staff_of(request.user)
    shops = org.shop_list(actor=request.user)
    recent_imports = list(_import_runs(request)[:5])
    todo = _todo(request, staff)
    return render(
        request,
        "web/home.html",
        {
            "staff": staff,
            "scope": scope,
            "shops": shops,
            "recent_imports": recent_imports,
            "policy": policy_in_force(),
            "todo": todo,
            "clear": [item for item in todo if not item["n"]],
        },
    )


def _todo(request: HttpRequest, staff: Any) -> list[dict[str, Any]]:
    """What waits for this person: the cards the apps register, each shown only where it applies
    to this person's role (a card answering None is not theirs), each linking to its list."""
    user = request.user
    items = []
    for card in plugins.home_cards():
        if card.capability and not has_capability(user, card.capability):
            continue
        n = card.count(user, staff)
        if n is not None:
            rows = card.rows(user, staff) if card.rows is not None and n else []
            items.append({"key": card.key, "label": card.label, "url": card.url(), "n": n, "rows": rows})
    return items


# --- search -----------------------------------------------------------------------------------


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """One box for order numbers, buyers, tracking numbers, case numbers and staff: every app's
    provider searches inside the actor's scope."""
    q = request.GET.get("q", "").strip()[:100]
    groups = []
    if q:
        for provider in plugins.search_providers():
            hits = provider.search(request.user, q)
            if hits:
                groups.append({"label": provider.label, "hits": hits})
    return render(request, "web/search.html", {"q": q, "groups": groups})


# --- imports ----------------------------------------------------------------------------------


def _import_runs(request: HttpRequest) -> Any:
    return core_selectors.import_runs(actor=request.user, everyone=has_capability(request.user, "org.manage"))


@login_required
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    require_capability(request, "orders.import")
    shops = org.shop_list(actor=request.user)
    form = UploadForm(
        request.POST or None, request.FILES or None, shops=shops, allow_staff=has_capability(request.user, "org.manage")
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if form.cleaned_data["kind"] == "orders" and upload.size > settings.KEFU_IMPORT_ASYNC_BYTES:
            shop = org.access_shop_by_id(request.user, form.cleaned_data["shop"])
            _queue_orders_import(request, shop, upload)
            messages.success(
                request,
                _(
                    "The file is large: it is being imported in the background. "
                    "Its result will appear in the import history."
                ),
            )
            return redirect("web:imports")
        data = upload.read()
        try:
            if form.cleaned_data["kind"] == "staff":
                summary = staff_import(actor=request.user, data=data, file_name=upload.name)
            elif form.cleaned_data["kind"] == "attendance":
                require_capability(request, "attendance.import")
                summary = attendance_import(actor=request.user, data=data, file_name=upload.name)
            else:
                shop = org.access_shop_by_id(request.user, form.cleaned_data["shop"])
                summary = orders_import(actor=request.user, shop=shop, data=data, file_name=upload.name)
        except ApplicationError as exc:
            form.add_error("file", exc.message)
        else:
            if summary.failed:
                messages.warning(
                    request, _("Imported with %(n)d bad rows; see the list below.") % {"n": len(summary.failed)}
                )
            else:
                messages.success(request, _("Import finished."))
            return redirect("web:import_detail", run_id=summary.run_id)
    page = keyset_page(_import_runs(request), key="started_at", cursor=request.GET.get("cursor"), limit=30)
    _name_actors(page.items)
    return render(request, "web/imports.html", {"form": form, "page": page})


def _name_actors(runs: list[Any]) -> None:
    """Who ran each import, by name (one lookup for the page)."""
    names = wording.names_of(r.actor_id for r in runs if r.actor_id is not None)
    for r in runs:
        r.actor_name = names.get(r.actor_id) or (r.actor.get_username() if r.actor_id else _("Command line"))


def _queue_orders_import(request: HttpRequest, shop: Shop, upload: Any) -> None:
    from kefu.commerce.services import orders_import_queue

    orders_import_queue(actor=request.user, shop=shop, chunks=upload.chunks(), file_name=upload.name[:255])


@login_required
def import_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _import_runs(request).filter(pk=run_id).first()
    if run is None:
        raise Http404("not found")
    _name_actors([run])
    if request.GET.get("format") == "xlsx":  # the rows that could not be imported, to fix and import again
        # the row number, the reason and the row's own cells, so it can be fixed and imported again
        columns: list[str] = []
        for f in run.failed:
            for name, _value in f.get("cells") or []:
                if name not in columns:
                    columns.append(name)
        rows = (
            (f.get("row"), f.get("reason"), *(dict(f.get("cells") or []).get(c, "") for c in columns))
            for f in run.failed
        )
        return xlsx_download(f"import-{run.pk}-failed.xlsx", _("Failed rows"), [_("Row"), _("Reason"), *columns], rows)
    return render_page_or_partial(request, "web/import_detail.html", "progress", {"run": run})


# --- policy -----------------------------------------------------------------------------------


HAND_LAID_SECTIONS = {"attendance", "leave", "points", "aftersales", "service"}


@login_required
def policy(request: HttpRequest) -> HttpResponse:
    on = day_query(request.GET.get("on"))
    in_force = policy_in_force(on)
    return render(
        request,
        "web/policy.html",
        {
            "policy": in_force,
            "doc": in_force.document,
            "versions": policy_versions(),
            "on": on,
            "can_change": has_capability(request.user, "policy.change"),
            # the sections this page has no hand-made layout for, as the schema labels them
            "more_sections": [
                s for s in policy_fields.field_rows(in_force.document) if s["key"] not in HAND_LAID_SECTIONS
            ],
            "freight": [(row.amount, "、".join(row.provinces)) for row in in_force.aftersales.freight],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_new(request: HttpRequest) -> HttpResponse:
    require_capability(request, "policy.change")
    current = policy_in_force()
    fields_mode = request.method == "POST" and request.POST.get("mode") == "fields"
    # The TOML form is bound only to its own posts (a fields-mode post would show it "required" errors).
    bound = request.POST if request.method == "POST" and not fields_mode else None
    form = PolicyForm(bound, initial={"text": handbook.dump_toml(current.document)})
    problems: list[str] = []
    fields = policy_fields.field_rows(current.document)
    tables = policy_fields.table_rows(current.document)
    preview = None
    if fields_mode:
        # The single-value form: apply the posted values to the version in force, then preview or save.
        draft = policy_fields.apply_tables(policy_fields.apply_fields(current.document, request.POST), request.POST)
        effective = date_param(request.POST.get("effective_from"))
        problems = [str(p) for p in rulebook.policy_problems(draft)]
        fields = policy_fields.field_rows(draft, problems)
        tables = policy_fields.table_rows(draft, problems)
        if not problems and request.POST.get("preview"):
            preview = policy_preview(actor=request.user, draft=draft, effective=effective)
        elif effective is None:
            problems = problems or [_("Choose the date the new version takes effect.")]
        elif not problems:
            try:
                version = policy_save(
                    actor=request.user,
                    effective_from=effective,
                    document=draft,
                    note=request.POST.get("note", "")[:300],
                )
            except ApplicationError as exc:
                problems = list(exc.details or [exc.message])
            else:
                messages.success(request, _("Policy version %(v)d saved.") % {"v": version.version})
                return redirect("web:policy")
    elif request.method == "POST" and form.is_valid():
        try:
            document = handbook.parse_toml(form.cleaned_data["text"])
            if request.POST.get("preview"):
                problems = [str(p) for p in rulebook.policy_problems(document)]
                effective_text = date_param(request.POST.get("effective_from"))
                preview = (
                    None if problems else policy_preview(actor=request.user, draft=document, effective=effective_text)
                )
            else:
                version = policy_save(
                    actor=request.user,
                    document=document,
                    effective_from=form.cleaned_data["effective_from"],
                    note=form.cleaned_data["note"],
                )
                messages.success(request, _("Policy version %(v)d saved.") % {"v": version.version})
                return redirect("web:policy")
        except ValueError as exc:
            problems = [str(exc)]
        except ApplicationError as exc:
            problems = list(exc.details or [exc.message])
    return render(
        request,
        "web/policy_new.html",
        {
            "form": form,
            "current": current,
            "problems": [policy_fields.readable_problem(p) for p in problems],
            "fields": fields,
            "tables": tables,
            "effective": request.POST.get("effective_from") or default_effective(clock.today()).isoformat(),
            "note": request.POST.get("note", ""),
            "preview": preview,
        },
        status=400 if problems else 200,
    )


# --- audit and tokens -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def outbox(request: HttpRequest) -> HttpResponse:
    """ADR 0008: the messages that did not go out — failing and given up — with a retry button."""
    from kefu.core.outbox import outbox_retry

    require_capability(request, "outbox.manage")
    if request.method == "POST":
        raw = int_param(request.POST.get("message"))
        if raw and outbox_retry(actor=request.user, message_id=raw):
            messages.success(request, _("The message will be sent again."))
        else:
            messages.error(request, _("This message was sent meanwhile or no longer exists."))
        return redirect("web:outbox")
    return render(request, "web/outbox.html", {"items": core_selectors.outbox_troubles()})


def _audit_verbs() -> dict[str, str]:
    """Every verb a person may filter by, with its words: each module's own, and the workflow core's
    (``*.escalated``) for each workflow, named by it ("售后案件 · 已升级")."""
    from kefu.workflow import registry

    verbs = {code: str(wording.verb(code)) for code in wording.VERBS if not code.startswith("*")}
    for flow in registry.all_workflows():
        for code in wording.VERBS:
            if code.startswith("*.") and f"{flow.prefix}.{code[2:]}" not in verbs:
                verbs[f"{flow.prefix}.{code[2:]}"] = f"{flow.label} · {wording.verb(code)}"
    return verbs


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    require_capability(request, "audit.view")
    verb = request.GET.get("verb", "").strip()[:64]
    qs = core_selectors.audit_events(verb=verb)
    page = keyset_page(qs, key="at", cursor=request.GET.get("cursor"), limit=50)
    annotate(page.items)
    verbs = sorted(_audit_verbs().items(), key=lambda pair: str(pair[1]))
    return render_page_or_partial(request, "web/audit.html", "results", {"page": page, "verb": verb, "verbs": verbs})
