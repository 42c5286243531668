from django.urls import path

from . import views, widget

app_name = "desk"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("stream/", views.stream, name="stream"),
    path("presence/", views.presence, name="presence"),
    path("board/", views.board, name="board"),
    path("kpis/", views.kpis, name="kpis"),
    path("summary/", views.summary, name="summary"),
    path("channels/", views.channels, name="channels"),
    path("scripts/", views.scripts, name="scripts"),
    path("scripts/pick/", views.script_pick, name="script_pick"),
    path("scripts/<int:script_id>/use/", views.script_use, name="script_use"),
    path("questions/", views.questions, name="questions"),
    path("followups/", views.followups, name="followups"),
    path("chases/", views.chases, name="chases"),
    path("knowledge/", views.knowledge, name="knowledge"),
    path("widget/<slug:code>.js", widget.script, name="widget_script"),
    path("widget/<slug:code>/messages", widget.messages, name="widget_messages"),
    path("<int:conversation_id>/", views.conversation, name="conversation"),
    path("<int:conversation_id>/reply/", views.reply, name="reply"),
    path("<int:conversation_id>/transfer/", views.transfer, name="transfer"),
    path("<int:conversation_id>/close/", views.close, name="close"),
]
