from django.db import models

from kefu.org.models import Shop, Staff
from kefu.workflow.models import Attachment, WorkItem


class Ticket(WorkItem):
    workflow_key = "tests.ticket"
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT)
    owner = models.ForeignKey(Staff, null=True, on_delete=models.SET_NULL)
    scope_shop_path = "shop_id"


class TicketFile(Attachment):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    scope_shop_path = "ticket__shop_id"
