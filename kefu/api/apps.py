from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kefu.api"
    label = "kefu_api"
    verbose_name = "API"
