from django.urls import path

from . import views

app_name = "service"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("new/", views.request_new, name="new"),
    path("day/", views.day, name="day"),
    path("agreements/", views.agreements, name="agreements"),
    path("agreements/<int:agreement_id>/", views.agreement_page, name="agreement"),
    path("plan/<int:item_id>/", views.plan_item, name="plan_item"),
    path("bills/<int:bill_id>/", views.bill_paid, name="bill_paid"),
    path("parts/", views.parts, name="parts"),
    path("<int:service_id>/", views.request_page, name="request"),
    path("<int:service_id>/evaluate/", views.request_evaluate, name="evaluate"),
    path("<int:service_id>/appoint/", views.request_appoint, name="appoint"),
    path("<int:service_id>/arrive/", views.request_arrive, name="arrive"),
    path("<int:service_id>/diagnose/", views.request_diagnose, name="diagnose"),
    path("<int:service_id>/step/", views.request_step, name="step"),
    path("<int:service_id>/parts/", views.request_parts, name="parts"),
    path("<int:service_id>/sign/", views.request_sign, name="sign"),
    path("<int:service_id>/settle/", views.request_settle, name="settle"),
    path("<int:service_id>/visit/", views.request_visit, name="visit"),
    path("<int:service_id>/report.pdf", views.request_report, name="report"),
    path("<int:service_id>/receipt.pdf", views.request_receipt, name="receipt"),
    path("<int:service_id>/bring-in/", views.request_bring_in, name="bring_in"),
    path("<int:service_id>/refer/", views.request_refer, name="refer"),
]
