from django.urls import path

from . import views

app_name = "service"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("new/", views.request_new, name="new"),
    path("day/", views.day, name="day"),
    path("<int:request_id>/", views.request_page, name="request"),
    path("<int:request_id>/evaluate/", views.request_evaluate, name="evaluate"),
    path("<int:request_id>/appoint/", views.request_appoint, name="appoint"),
    path("<int:request_id>/arrive/", views.request_arrive, name="arrive"),
    path("<int:request_id>/diagnose/", views.request_diagnose, name="diagnose"),
    path("<int:request_id>/step/", views.request_step, name="step"),
    path("<int:request_id>/parts/", views.request_parts, name="parts"),
    path("<int:request_id>/sign/", views.request_sign, name="sign"),
    path("<int:request_id>/settle/", views.request_settle, name="settle"),
]
