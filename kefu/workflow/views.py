"""The supervisor's page for status labels: every registered workflow, its fixed categories and the
labels over them (add, rename, recategorise, reorder, remove when unused)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.params import int_param
from kefu.web.http import form_post, require_capability

from . import registry, selectors, services


def _flow(key: str) -> registry.Workflow:
    try:
        return registry.get(key)
    except KeyError as exc:
        raise Http404("no such workflow") from exc


@login_required
def statuses(request: HttpRequest) -> HttpResponse:
    require_capability(request, "workflow.configure")
    flows = [
        {"flow": flow, "labels": selectors.labels(flow), "categories": list(flow.categories.choices)}
        for flow in registry.all_workflows()
    ]
    return render(request, "workflow/statuses.html", {"flows": flows})


@login_required
@require_POST
def status_add(request: HttpRequest, key: str) -> HttpResponse:
    require_capability(request, "workflow.configure")
    flow = _flow(key)
    return form_post(
        request,
        lambda: services.label_create(
            actor=request.user,
            workflow=flow.key,
            name=request.POST.get("name", ""),
            category=request.POST.get("category", ""),
        ),
        then=redirect("workflow:statuses"),
        done=_("Status label added."),
    )


@login_required
@require_POST
def status_edit(request: HttpRequest, key: str, label_id: int) -> HttpResponse:
    require_capability(request, "workflow.configure")
    flow = _flow(key)
    label = selectors.label_by_id(flow, label_id)
    if request.POST.get("delete") == "1":
        return form_post(
            request,
            lambda: services.label_delete(actor=request.user, label=label),
            then=redirect("workflow:statuses"),
            done=_("Status label removed."),
        )
    return form_post(
        request,
        lambda: services.label_update(
            actor=request.user,
            label=label,
            name=request.POST.get("name", ""),
            category=request.POST.get("category", ""),
            position=int_param(request.POST.get("position")) or 0,
            default_for_category=request.POST.get("default") == "1",
        ),
        then=redirect("workflow:statuses"),
        done=_("Status label saved."),
    )
