"""/api/v1/ routes (api.md, "Resources")."""

from __future__ import annotations

from django.urls import path

from cases.api import views

app_name = "api"

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("auth/token/refresh/", views.RefreshView.as_view(), name="token-refresh"),
    path("cases/", views.CaseListView.as_view(), name="case-list"),
    path("cases/<str:reference>/", views.CaseDetailView.as_view(), name="case-detail"),
    path("cases/<str:reference>/events/", views.CaseEventsView.as_view(), name="case-events"),
    path(
        "cases/<str:reference>/transitions/<str:action>/",
        views.CaseTransitionView.as_view(),
        name="case-transition",
    ),
    path(
        "cases/<str:reference>/assignment/",
        views.CaseAssignmentView.as_view(),
        name="case-assignment",
    ),
    path("status-lookup/", views.StatusLookupView.as_view(), name="status-lookup"),
    path("agencies/", views.AgencyListView.as_view(), name="agency-list"),
    path("agencies/<str:code>/", views.AgencyDetailView.as_view(), name="agency-detail"),
    path("stats/sla/", views.SlaStatsView.as_view(), name="stats-sla"),
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/<int:id>/read/",
        views.NotificationReadView.as_view(),
        name="notification-read",
    ),
]
