"""/api/v1/ routes (api.md, "Resources")."""

from __future__ import annotations

from django.urls import path

from api.views import (
    agencies,
    attachments,
    auth,
    cases,
    documents,
    inbox,
    settlements,
    stats,
    status,
)

app_name = "api"

urlpatterns = [
    path("auth/token/", auth.TokenView.as_view(), name="token"),
    path("auth/token/refresh/", auth.RefreshView.as_view(), name="token-refresh"),
    path("cases/", cases.CaseListView.as_view(), name="case-list"),
    path("cases/<str:reference>/", cases.CaseDetailView.as_view(), name="case-detail"),
    path("cases/<str:reference>/events/", cases.CaseEventsView.as_view(), name="case-events"),
    path(
        "cases/<str:reference>/attachments/",
        attachments.CaseAttachmentsView.as_view(),
        name="case-attachments",
    ),
    path(
        "cases/<str:reference>/attachments/<int:attachment_id>/",
        attachments.CaseAttachmentFileView.as_view(),
        name="case-attachment-file",
    ),
    path(
        "cases/<str:reference>/transitions/<str:action>/",
        cases.CaseTransitionView.as_view(),
        name="case-transition",
    ),
    path(
        "cases/<str:reference>/assignment/",
        cases.CaseAssignmentView.as_view(),
        name="case-assignment",
    ),
    path(
        "cases/<str:reference>/documents/",
        documents.CaseDocumentsView.as_view(),
        name="case-documents",
    ),
    path(
        "cases/<str:reference>/documents/<str:kind>.pdf",
        documents.CaseDocumentPdfView.as_view(),
        name="case-document-pdf",
    ),
    path(
        "documents/<str:number>/verification/",
        documents.DocumentVerificationView.as_view(),
        name="document-verification",
    ),
    path("status-lookup/", status.StatusLookupView.as_view(), name="status-lookup"),
    path("agencies/", agencies.AgencyListView.as_view(), name="agency-list"),
    path("agencies/<str:code>/", agencies.AgencyDetailView.as_view(), name="agency-detail"),
    path("agencies/<str:code>/rules/", agencies.AgencyRulesView.as_view(), name="agency-rules"),
    path("stats/sla/", stats.SlaStatsView.as_view(), name="stats-sla"),
    path("stats/sla/series/", stats.SlaSeriesView.as_view(), name="stats-sla-series"),
    path("stats/workload/", stats.WorkloadView.as_view(), name="stats-workload"),
    path("settlements/", settlements.SettlementListView.as_view(), name="settlement-list"),
    path(
        "settlements/<str:number>/settlement/",
        settlements.SettlementSettleView.as_view(),
        name="settlement-settle",
    ),
    path("notifications/", inbox.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/<int:id>/read/",
        inbox.NotificationReadView.as_view(),
        name="notification-read",
    ),
]
