from django.contrib import admin
from django.urls import include, path

from kefu.api.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("attendance/", include("kefu.workforce.urls")),
    path("aftersales/", include("kefu.aftersales.urls")),
    path("", include("kefu.web.urls")),
]
