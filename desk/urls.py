from django.urls import path

from desk import views

app_name = "desk"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("find/", views.find_person, name="find"),
    path("assign/", views.bulk_assign, name="bulk_assign"),
    path("cases/<str:reference>/", views.case_detail, name="case"),
    path("cases/<str:reference>/act/<str:action>/", views.case_act, name="act"),
    path("cases/<str:reference>/take/", views.case_take, name="take"),
    path("cases/<str:reference>/assign/", views.case_reassign, name="assign"),
    path(
        "cases/<str:reference>/attachments/<int:attachment_id>/",
        views.case_attachment,
        name="attachment",
    ),
    path("cases/<str:reference>/documents/<str:kind>.pdf", views.case_document, name="document"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("settlements/", views.settlements, name="settlements"),
    path("settlements/<str:number>/settle/", views.settlement_settle, name="settle"),
    path("dashboard/<str:table>.<str:fmt>", views.dashboard_export, name="export"),
]
