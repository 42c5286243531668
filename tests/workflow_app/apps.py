"""A second module on the shared workflow core, as a future module would declare it (issue: "under
50 lines" for statuses, SLA, attachments and a checklist). Installed in test settings only."""

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tests.workflow_app"
    label = "workflow_app"

    def ready(self) -> None:
        from django.db import models

        from kefu.workflow.registry import Workflow, register

        class Cat(models.TextChoices):
            NEW = "new", "New"
            WAITING = "waiting", "Waiting"
            DONE = "done", "Done"

        register(
            Workflow(
                key="tests.ticket",
                capability="cases.handle",
                label="Tickets",
                model="workflow_app.Ticket",
                categories=Cat,
                transitions={
                    "new": frozenset({"waiting", "done"}),
                    "waiting": frozenset({"new", "done"}),
                    "done": frozenset(),
                },
                default_labels=(("新工单", "new", True), ("等待中", "waiting", True), ("已完成", "done", True)),
                initial="new",
                done=frozenset({"done"}),
                closed="done",
                sla_hours=lambda item: 4,
                checklist=lambda item: (("greet", "Greet"), ("solve", "Solve")),
                attachment_model="workflow_app.TicketFile",
                attachment_fk="ticket",
                attachment_kinds=(("photo", "Photo"),),
            )
        )
