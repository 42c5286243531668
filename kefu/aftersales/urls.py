from django.urls import path

from . import views

app_name = "aftersales"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("new/", views.case_new, name="new"),
    path("refunds/", views.refunds, name="refunds"),
    path("refunds/approve/", views.refunds_approve, name="refunds_approve"),
    path("refunds/grants/", views.refund_grant, name="refund_grant"),
    path("refunds/<int:line_id>/decide/", views.refund_decide, name="refund_decide"),
    path("claims/", views.claims, name="claims"),
    path("claims/<int:claim_id>/", views.claim_update, name="claim_update"),
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/<int:review_id>/reply/", views.review_reply, name="review_reply"),
    path("report/", views.report, name="report"),
    path("orders/<int:order_id>/chase/", views.order_chase, name="order_chase"),
    path("evidence/<int:evidence_id>/", views.evidence_download, name="evidence"),
    path("<int:case_id>/", views.case_page, name="case"),
    path("<int:case_id>/facts/", views.case_facts, name="facts"),
    path("<int:case_id>/transition/", views.case_transition, name="transition"),
    path("<int:case_id>/step/", views.case_step, name="step"),
    path("<int:case_id>/evidence/", views.case_evidence, name="evidence_add"),
    path("<int:case_id>/resolution/", views.case_resolution, name="resolution"),
    path("<int:case_id>/money/", views.case_money, name="money"),
    path("<int:case_id>/claim/", views.case_claim, name="claim"),
    path("<int:case_id>/responsible/", views.case_responsible, name="responsible"),
    path("<int:case_id>/appeal.zip", views.appeal_pack, name="appeal"),
]
