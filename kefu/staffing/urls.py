from django.urls import path

from . import views

app_name = "staffing"

urlpatterns = [
    path("", views.requirement_page, name="requirement"),
    path("propose/", views.propose, name="propose"),
    path("proposals/<int:proposal_id>/", views.proposal_page, name="proposal"),
    path("proposals/<int:proposal_id>/save/", views.proposal_save, name="save"),
    path("proposals/<int:proposal_id>/publish/", views.proposal_publish, name="publish"),
    path("proposals/<int:proposal_id>/discard/", views.proposal_discard, name="discard"),
]
