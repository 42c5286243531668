from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    path("", views.inspection, name="inspection"),
    path("draw/", views.draw, name="draw"),
    path("hits/<int:hit_id>/decide/", views.decide, name="decide"),
    path("hits/<int:hit_id>/points/", views.to_points, name="points"),
    path("hits/<int:hit_id>/appeal/", views.appeal, name="appeal"),
    path("hits/<int:hit_id>/appeal/decide/", views.appeal_decide, name="appeal_decide"),
    path("samples/<int:sample_id>/review/", views.review, name="review"),
    path("mine/", views.mine, name="mine"),
]
