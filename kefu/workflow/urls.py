from django.urls import path

from . import views

app_name = "workflow"

urlpatterns = [
    path("statuses/", views.statuses, name="statuses"),
    path("<str:key>/statuses/", views.status_add, name="status_add"),
    path("<str:key>/statuses/<int:label_id>/", views.status_edit, name="status_edit"),
]
