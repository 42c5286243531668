from django.urls import path

from . import views

app_name = "connectors"

urlpatterns = [
    path("", views.health_page, name="health"),
    path("<int:connector_id>/", views.connector_page, name="connector"),
    path("<int:connector_id>/sync/", views.sync_now, name="sync"),
    path("<int:connector_id>/keys/", views.keys, name="keys"),
]
