from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("shops/", views.shops, name="shops"),
    path("shops/<int:shop_id>/", views.shop_detail, name="shop_detail"),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:team_id>/", views.team_detail, name="team_detail"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:staff_id>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:staff_id>/leave-date/", views.staff_leave_date, name="staff_leave_date"),
    path("tokens/", views.tokens, name="tokens"),
]
