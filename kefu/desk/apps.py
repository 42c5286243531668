from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "kefu.desk"
    label = "desk"
    verbose_name = _("Service desk")

    def ready(self) -> None:
        from kefu.workflow import registry

        from . import delivery, plugin  # noqa: F401 (delivery registers its outbox handlers)
        from .workflow import CONVERSATIONS

        registry.register(CONVERSATIONS)
        plugin.register()
        self._forget_directory_on_changes()
        from kefu.core.signals import payments_recorded

        from .services import kpi_days_paid_into

        payments_recorded.connect(kpi_days_paid_into, dispatch_uid="desk-kpi-payments")

    def _forget_directory_on_changes(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from kefu.org.models import Shop, Staff

        from .models import Channel
        from .selectors import directory_forget

        for model in (Channel, Shop, Staff):
            post_save.connect(directory_forget, sender=model, dispatch_uid=f"desk-directory-save-{model.__name__}")
            post_delete.connect(directory_forget, sender=model, dispatch_uid=f"desk-directory-del-{model.__name__}")
        m2m_changed.connect(directory_forget, sender=Shop.teams.through, dispatch_uid="desk-directory-teams")
