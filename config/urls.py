"""URLs: the API, the language switch, the optional admin, then every app's pages as the apps
register them in their AppConfig (``kefu.core.plugins.urls``)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from kefu.api.api import api
from kefu.core import plugins
from kefu.web.views import throttled_admin_login

admin.site.login = throttled_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    *(path(prefix, include(module)) for prefix, module in plugins.url_includes()),
]
if settings.KEFU_ADMIN:  # off unless KEFU_ADMIN=1; its sign-in is throttled like the login page
    urlpatterns.insert(1, path("admin/", admin.site.urls))

handler400 = "kefu.web.errors.bad_request"
handler403 = "kefu.web.errors.permission_denied"
handler404 = "kefu.web.errors.page_not_found"
handler500 = "kefu.web.errors.server_error"
