"""Time and rules: the working-day calendar and the stage clocks."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from agencies.policies import Responsible, Stage


class DayKind(models.TextChoices):
    WORKDAY = "workday", _("Working day")
    WEEKEND = "weekend", _("Weekend")
    HOLIDAY = "holiday", _("Statutory holiday")
    MAKEUP = "makeup", _("Make-up working day")


class CalendarSource(models.TextChoices):
    CHINESECALENDAR = "chinesecalendar", _("chinesecalendar package")
    IMPORT = "import", _("Imported file")
    ADMIN = "admin", _("Edited in the admin")


class CalendarYear(models.Model):
    """A year whose official schedule is loaded. Deadlines reaching past these are provisional."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    source = models.CharField(_("source"), max_length=20, choices=CalendarSource.choices)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """One day of a published year. Every day of a loaded year has a row."""

    date = models.DateField(_("date"), primary_key=True)
    is_workday = models.BooleanField(_("working day"))
    kind = models.CharField(_("kind of day"), max_length=10, choices=DayKind.choices)
    name = models.CharField(
        _("name"), max_length=50, blank=True, help_text=_("Holiday name, if any")
    )
    source = models.CharField(_("source"), max_length=20, choices=CalendarSource.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        constraints = [
            # A holiday or weekend is never a working day; a make-up day always is.
            models.CheckConstraint(
                name="calendarday_kind_matches_workday",
                condition=(
                    Q(kind__in=["workday", "makeup"], is_workday=True)
                    | Q(kind__in=["weekend", "holiday"], is_workday=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class CalendarRevision(models.Model):
    """A single row bumped on every calendar change, so processes know to reload their cache."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    revision = models.PositiveBigIntegerField(_("revision"), default=0)

    def __str__(self) -> str:
        return f"calendar revision {self.revision}"


class StageClock(models.Model):
    """One stage instance of one case: when it started, when it is due, when it ended."""

    case = models.ForeignKey(
        "cases.TransferCase",
        on_delete=models.CASCADE,
        related_name="clocks",
        verbose_name=_("case"),
    )
    stage = models.CharField(_("stage"), max_length=30, choices=Stage.choices)
    responsible = models.CharField(_("responsible"), max_length=20, choices=Responsible.choices)
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agency"),
    )
    window_days = models.PositiveSmallIntegerField(_("working days allowed"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"))
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_by = models.CharField(
        _("closed by"), max_length=40, blank=True, help_text=_("The action that ended it")
    )
    breached_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    provisional = models.BooleanField(_("provisional"), default=False)
    # Instants the SLA scan acts at, fixed when the clock opens (and moved by clocks_recompute),
    # so each of its queries is an index probe instead of working-day arithmetic over open rows.
    # See workflow/services.py (clock_instants) and workflow/claims.py.
    warn_at = models.DateTimeField(
        _("warn at"), null=True, blank=True, help_text=_("Due-soon warning")
    )
    escalate_at = models.DateTimeField(
        _("escalate at"), null=True, blank=True, help_text=_("Escalation")
    )
    remind_at = models.DateTimeField(
        _("remind at"), null=True, blank=True, help_text=_("Materials reminder")
    )
    # Claim markers: set by the scan's conditional update; a set marker means "done once".
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("stage clock")
        verbose_name_plural = _("stage clocks")
        constraints = [
            # One open clock per case: the scan and the case document rely on it.
            models.UniqueConstraint(
                fields=["case"], condition=Q(completed_at__isnull=True), name="one_open_clock"
            ),
            models.CheckConstraint(
                name="clock_due_after_start",
                condition=Q(due_at__isnull=True) | Q(due_at__gt=models.F("started_at")),
            ),
            models.CheckConstraint(
                name="clock_completed_after_start",
                condition=Q(completed_at__isnull=True)
                | Q(completed_at__gte=models.F("started_at")),
            ),
        ]
        indexes = [
            # The SLA scan: "open, not yet flagged, due before now", ordered by due_at.
            models.Index(
                fields=["due_at"],
                name="clock_open_unbreached_due",
                condition=Q(completed_at__isnull=True, breached_at__isnull=True),
            ),
            # sla_scan due-soon: "open, not yet warned, warn_at <= now", ordered by warn_at.
            models.Index(
                fields=["warn_at"],
                name="clock_open_unwarned",
                condition=Q(completed_at__isnull=True, warned_at__isnull=True)
                & Q(warn_at__isnull=False),
            ),
            # sla_scan escalation: "open, not yet escalated, escalate_at <= now".
            models.Index(
                fields=["escalate_at"],
                name="clock_open_unescalated",
                condition=Q(completed_at__isnull=True, escalated_at__isnull=True)
                & Q(escalate_at__isnull=False),
            ),
            # sla_scan materials reminder: "open, not yet reminded, remind_at <= now".
            models.Index(
                fields=["remind_at"],
                name="clock_open_unreminded",
                condition=Q(completed_at__isnull=True, reminded_at__isnull=True)
                & Q(remind_at__isnull=False),
            ),
            # Overdue cases (one open clock per case): /metrics and the overdue views count these.
            models.Index(
                fields=["due_at"],
                name="clock_open_breached",
                condition=Q(completed_at__isnull=True, breached_at__isnull=False),
            ),
            # The supervisor statistics' open and overdue counts per agency and stage: bounded by
            # what is open, not by every clock the agency ever had (quality.md P9).
            models.Index(
                fields=["agency", "stage", "due_at"],
                name="clock_open_agency_stage",
                condition=Q(completed_at__isnull=True, agency__isnull=False, due_at__isnull=False),
            ),
            # recompute_deadlines after a calendar import: open provisional clocks only.
            models.Index(
                fields=["due_at"],
                name="clock_open_provisional",
                condition=Q(completed_at__isnull=True, provisional=True),
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_stage_display())

    @property
    def is_open(self) -> bool:
        return self.completed_at is None


class StageTally(models.Model):
    """Stages completed per Asia/Shanghai day, stage and agency, and how many of them on time.

    Kept by ``workflow.services.clock_close`` in the transaction that completes each clock, so the
    supervisor statistics read a few rows per day instead of every clock ever completed (quality.md
    P9). Counted: clocks with an agency and a deadline that the caller says completed the stage;
    on time: completed at or before the deadline (a completed clock's deadline never moves:
    ``clocks_recompute`` only writes open ones).
    """

    day = models.DateField(_("day"), help_text=_("Asia/Shanghai date of completion"))
    stage = models.CharField(_("stage"), max_length=30, choices=Stage.choices)
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("agency"),
    )
    completed = models.PositiveIntegerField(_("completed"), default=0)
    on_time = models.PositiveIntegerField(_("on time"), default=0)

    class Meta:
        ordering = ["day", "stage", "agency"]
        verbose_name = _("stage tally")
        verbose_name_plural = _("stage tallies")
        constraints = [
            # The key of the upsert (core.rollup): one row per day, stage and agency.
            models.UniqueConstraint(fields=["day", "stage", "agency"], name="stagetally_key"),
            models.CheckConstraint(
                name="stagetally_on_time_le_completed", condition=Q(on_time__lte=F("completed"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.stage} {self.agency_id}"
