from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "kefu.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from . import plugin

        plugin.register()
        from kefu.core.actions import register_capability_check

        from .permissions import has_capability

        register_capability_check(has_capability)
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from .services import tokens_forget

        # a password change or a deactivation: this process forgets the tokens it remembered
        post_save.connect(
            lambda **_kw: tokens_forget(), sender=get_user_model(), weak=False, dispatch_uid="kefu-tokens-forget"
        )
