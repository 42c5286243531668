from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from kefu.api.api import api
from kefu.web.views import throttled_admin_login

admin.site.login = throttled_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("attendance/", include("kefu.workforce.urls")),
    path("aftersales/", include("kefu.aftersales.urls")),
    path("workflow/", include("kefu.workflow.urls")),
    path("", include("kefu.web.urls")),
]
if settings.KEFU_ADMIN:  # off unless KEFU_ADMIN=1; its sign-in is throttled like the login page
    urlpatterns.insert(1, path("admin/", admin.site.urls))

handler400 = "kefu.web.errors.bad_request"
handler403 = "kefu.web.errors.permission_denied"
handler404 = "kefu.web.errors.page_not_found"
handler500 = "kefu.web.errors.server_error"
