from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("status/", views.status, name="status"),
    path("signin/", views.SignInView.as_view(), name="signin"),
    path("signout/", views.signout, name="signout"),
    path("me/", views.my_cases, name="me"),
    path("me/cases/<str:reference>/", views.case_detail, name="case"),
    path("me/cases/<str:reference>/attachments/", views.case_upload, name="upload"),
    path(
        "me/cases/<str:reference>/attachments/<int:attachment_id>/",
        views.case_attachment,
        name="attachment",
    ),
    path("me/cases/<str:reference>/documents/<str:kind>.pdf", views.case_document, name="document"),
    path("me/cases/<str:reference>/withdraw/", views.case_withdraw, name="withdraw"),
    path("me/cases/<str:reference>/resubmit/", views.case_resubmit, name="resubmit"),
    path("verify/<str:number>/", views.verify, name="verify"),
    path("settings/text-size/", views.text_size, name="text_size"),
]
