from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("search/", views.search, name="search"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:run_id>/", views.import_detail, name="import_detail"),
    path("policy/", views.policy, name="policy"),
    path("policy/new/", views.policy_new, name="policy_new"),
    path("audit/", views.audit, name="audit"),
    path("outbox/", views.outbox, name="outbox"),
]
