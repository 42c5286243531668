from django.urls import path

from . import views

app_name = "care"

urlpatterns = [
    path("complaints/", views.complaints, name="complaints"),
    path("complaints/<int:complaint_id>/", views.complaint_page, name="complaint"),
    path("complaints/<int:complaint_id>/step/", views.complaint_step, name="complaint_step"),
    path("complaints/<int:complaint_id>/resolve/", views.complaint_resolve, name="complaint_resolve"),
    path("complaints/<int:complaint_id>/emotion/", views.complaint_emotion, name="complaint_emotion"),
    path("complaints/<int:complaint_id>/visit/", views.complaint_visit, name="complaint_visit"),
    path("complaints/<int:complaint_id>/assign/", views.complaint_assign, name="complaint_assign"),
    path("customers/<int:customer_id>/first-contact/", views.customer_first_contact, name="first_contact"),
    path("assignment/", views.assignment, name="assignment"),
    path("visits/", views.visits, name="visits"),
    path("visits/<int:visit_id>/", views.visit_record, name="visit_record"),
]
