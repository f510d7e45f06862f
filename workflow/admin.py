"""Admin for the working-day calendar. Edits go through ``calendar_day_set``, never ``save()``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _

from workflow.calendar import SHANGHAI
from workflow.calendar_data import CalendarDataError, calendar_day_check, calendar_day_set
from workflow.hooks import deadlines_recompute
from workflow.models import CalendarDay, CalendarYear


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ["kind", "name", "note"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind:
            try:
                calendar_day_check(date=self.instance.date, kind=kind)
            except CalendarDataError as exc:
                self.add_error("kind", str(exc))
        return cleaned


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    form = CalendarDayForm
    list_display = ["date", "weekday", "kind", "is_workday", "name", "source", "updated_at"]
    list_editable = ["kind", "name"]
    list_filter = ["kind", "is_workday", "source"]
    date_hierarchy = "date"
    search_fields = ["name", "note"]
    fields = ["date", "weekday", "kind", "is_workday", "name", "note", "source", "updated_at"]
    # is_workday follows from kind (a database constraint holds them together), so it is shown,
    # not edited: choosing "holiday" or "make-up day" is how a day's working status changes.
    readonly_fields = ["date", "weekday", "is_workday", "source", "updated_at"]
    list_per_page = 62

    @admin.display(description="星期")
    def weekday(self, obj: CalendarDay) -> str:
        return "一二三四五六日"[obj.date.weekday()]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Every day of a loaded year already has a row; years come from sync or import.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CalendarDay | None = None) -> bool:
        return False

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> type[forms.ModelForm]:
        kwargs.setdefault("form", CalendarDayForm)
        return super().get_changelist_form(request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: CalendarDay, form: forms.ModelForm, change: bool
    ) -> None:
        # The form has already copied its fields onto obj (the change list edits only some).
        calendar_day_set(day=obj, kind=obj.kind, name=obj.name, note=obj.note)
        # Deadlines counting this day move with it (and each case's timeline says so).
        since = dt.datetime.combine(obj.date, dt.time.min, tzinfo=SHANGHAI)
        moved = deadlines_recompute(due_since=since)
        if moved:
            self.message_user(
                request,
                _("Open deadlines moved: %(count)d; each case's events say how.")
                % {"count": len(moved)},
            )


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "source", "loaded_at", "note"]
    list_filter = ["source"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CalendarYear | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CalendarYear | None = None) -> bool:
        return False
