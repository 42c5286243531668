from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "kefu.org"
    label = "org"
    verbose_name = "Organisation"
