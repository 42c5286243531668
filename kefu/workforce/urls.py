from django.urls import path

from . import views

app_name = "attendance"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("team/", views.team, name="team"),
    path("team/roster/", views.roster_cell, name="roster_cell"),
    path("team/copy-week/", views.copy_week, name="copy_week"),
    path("team/makeup/", views.makeup, name="makeup"),
    path("staff/<int:staff_id>/", views.staff_statement, name="staff_statement"),
    path("statement/", views.statement_export, name="statement_export"),
    path("approvals/", views.approvals, name="approvals"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:request_id>/", views.request_detail, name="request_detail"),
    path("requests/<int:request_id>/decide/", views.request_decide, name="request_decide"),
    path("red-packets/", views.red_packets, name="red_packets"),
    path("red-packets/<int:packet_id>/sent/", views.red_packet_sent, name="red_packet_sent"),
    path("points/", views.points, name="points"),
    path("points/<int:entry_id>/reverse/", views.points_reverse, name="points_reverse"),
    path("publication/", views.publication, name="publication"),
]
