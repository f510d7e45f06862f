"""The medical insurance agencies: one per pooling area, keyed by its GB/T 2260 code.

Accounts, clocks and cases refer to an agency; its windows and policies are in ``agencies.policies``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.policies import (
    DEFAULT_ESCALATION_DAYS,
    NATIONAL_BALANCE_DAYS,
    NATIONAL_TRANSFER_IN_DAYS,
    NATIONAL_TRANSFER_OUT_DAYS,
    BalancePolicy,
    IntraProvinceMode,
)

agency_code_validator = RegexValidator(
    # [0-9], not \d: \d also matches full-width and other Unicode digits.
    r"^[1-8][0-9]{5}$",
    _("An agency code is 6 digits (GB/T 2260)."),
)


class AgencyLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    PREFECTURE = "prefecture", _("Prefecture")
    COUNTY = "county", _("County")


class Agency(models.Model):
    """A medical insurance agency, identified by its pooling area's GB/T 2260 code."""

    code = models.CharField(
        _("code"), max_length=6, primary_key=True, validators=[agency_code_validator]
    )
    name = models.CharField(_("name"), max_length=60)
    province_code = models.CharField(_("province code"), max_length=6)
    province_name = models.CharField(_("province"), max_length=30)
    level = models.CharField(_("level"), max_length=12, choices=AgencyLevel.choices)
    transfer_out_days = models.PositiveSmallIntegerField(
        _("transfer-out window (working days)"),
        default=NATIONAL_TRANSFER_OUT_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(NATIONAL_TRANSFER_OUT_DAYS)],
    )
    transfer_in_days = models.PositiveSmallIntegerField(
        _("transfer-in window (working days)"),
        default=NATIONAL_TRANSFER_IN_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(NATIONAL_TRANSFER_IN_DAYS)],
    )
    balance_days = models.PositiveSmallIntegerField(
        _("balance window (working days)"),
        default=NATIONAL_BALANCE_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(NATIONAL_BALANCE_DAYS)],
    )
    balance_policy = models.CharField(
        _("balance policy"),
        max_length=10,
        choices=BalancePolicy.choices,
        default=BalancePolicy.TRANSFER,
    )
    escalation_days = models.PositiveSmallIntegerField(
        _("escalation after (working days)"),
        default=DEFAULT_ESCALATION_DAYS,
        validators=[MinValueValidator(1)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The agency's own system, told of its cases' state changes and SLA alerts (notifications
    # channel "webhook"): a JSON POST signed with HMAC-SHA256 over the timestamp and the body.
    webhook_url = models.URLField(_("webhook URL"), blank=True, max_length=500)
    webhook_secret = models.CharField(_("webhook secret"), blank=True, max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            # Local windows may be shorter than the national ones, never longer.
            models.CheckConstraint(
                name="agency_transfer_out_window",
                condition=Q(
                    transfer_out_days__gte=1, transfer_out_days__lte=NATIONAL_TRANSFER_OUT_DAYS
                ),
            ),
            models.CheckConstraint(
                name="agency_transfer_in_window",
                condition=Q(
                    transfer_in_days__gte=1, transfer_in_days__lte=NATIONAL_TRANSFER_IN_DAYS
                ),
            ),
            models.CheckConstraint(
                name="agency_balance_window",
                condition=Q(balance_days__gte=1, balance_days__lte=NATIONAL_BALANCE_DAYS),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class AgeLimitScope(models.TextChoices):
    INTER_PROVINCE = "inter_province", _("Transfers in from another province")
    ALL = "all", _("Every transfer in")


class AgencyRule(models.Model):
    """An agency's own eligibility conditions for transfers in, in force from a date (domain.md
    "Eligibility rules per agency"): data its supervisor or an administrator edits, never code.

    A case is judged by the rule in force on the day it was submitted (the latest
    ``effective_from`` on or before that day); a change applies to cases submitted after it takes
    effect. Every change is audited (``AgencyRuleChange``). A rule of a province's own agency
    (``xx0000``) applies to every agency of the province that has none of its own in force: the
    province's numbers, with the national reading as the default. Shorter windows set here apply
    to cases submitted while the rule is in force (the agency's own fields to the rest).
    """

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="rules", verbose_name=_("agency")
    )
    effective_from = models.DateField(_("in force from"))
    max_age_male = models.PositiveSmallIntegerField(
        _("men must be under this age at application"),
        null=True,
        blank=True,
        validators=[MinValueValidator(16), MaxValueValidator(100)],
        help_text=_(
            "未满 N 周岁: a man of exactly this age is refused. Empty: no limit. Sex from the ID "
            "number's 17th digit (odd: male)."
        ),
    )
    max_age_female = models.PositiveSmallIntegerField(
        _("women must be under this age at application"),
        null=True,
        blank=True,
        validators=[MinValueValidator(16), MaxValueValidator(100)],
        help_text=_("Empty: no limit."),
    )
    age_limit_scope = models.CharField(
        _("the age limit applies to"),
        max_length=16,
        choices=AgeLimitScope.choices,
        default=AgeLimitScope.INTER_PROVINCE,
    )
    accepts_employee = models.BooleanField(_("takes employee insurance"), default=True)
    accepts_resident = models.BooleanField(_("takes resident insurance"), default=True)
    accepts_balance = models.BooleanField(
        _("credits transferred balances"),
        default=True,
        help_text=_("Otherwise the personal account balance is paid out to the person."),
    )
    resident_keeps_personal_account = models.BooleanField(
        _("keeps a personal account for employees moving into resident insurance"),
        default=False,
        help_text=_(
            "Then a balance moving from employee to resident insurance is credited, not paid out."
        ),
    )
    # Shorter windows (domain.md "Eligibility rules per agency"), empty for the agency's own or
    # the national ones; never longer than the national ones.
    transfer_out_days = models.PositiveSmallIntegerField(
        _("transfer-out window (working days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("Empty: the agency's own window, at most the national 10."),
    )
    transfer_in_days = models.PositiveSmallIntegerField(
        _("transfer-in window (working days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("Empty: the agency's own window, at most the national 5."),
    )
    balance_days = models.PositiveSmallIntegerField(
        _("balance window (working days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("Empty: the agency's own window, at most the national 5."),
    )
    # The waiting-period numbers (domain.md "Gaps in cover"), empty for the national reading.
    catch_up_max_gap_months = models.PositiveSmallIntegerField(
        _("longest employee gap that can be paid for (months)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(24)],
        help_text=_("Empty: 3 (the national reading)."),
    )
    employee_waiting_months = models.PositiveSmallIntegerField(
        _("employee waiting period after a longer gap (months)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(24)],
        help_text=_("Empty: up to 6."),
    )
    resident_fixed_waiting_months = models.PositiveSmallIntegerField(
        _("resident fixed waiting period (months)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(24)],
        help_text=_("Empty: 3 (国办发〔2024〕38号)."),
    )
    resident_repair_floor_months = models.PositiveSmallIntegerField(
        _("resident waiting period after repair, at least (months)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(24)],
        help_text=_(
            "After 4 or more years without cover, contributions paid back leave at least this "
            "wait. Empty: 6."
        ),
    )
    basis = models.CharField(
        _("basis"), max_length=200, blank=True, help_text=_("The document that sets the rule.")
    )

    class Meta:
        ordering = ["agency", "-effective_from"]
        verbose_name = _("agency rule")
        verbose_name_plural = _("agency rules")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "effective_from"], name="agency_rule_one_per_day"
            ),
            models.CheckConstraint(
                name="agency_rule_takes_a_type",
                condition=Q(accepts_employee=True) | Q(accepts_resident=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.effective_from.isoformat()}"

    @property
    def insurance_types_accepted(self) -> list[str]:
        """The insurance types (``cases.states.InsuranceType`` values) it takes transfers into."""
        return [
            kind
            for kind, taken in (
                ("employee", self.accepts_employee),
                ("resident", self.accepts_resident),
            )
            if taken
        ]


class AgencyRuleChange(models.Model):
    """One change to an agency rule: who, when, the values before and after (None when created or
    deleted). Written by ``agencies.rules`` in the change's own transaction."""

    rule = models.ForeignKey(
        AgencyRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("rule"),
    )
    agency_code = models.CharField(_("agency"), max_length=6)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("changed by (account)"),
    )
    changed_by_name = models.CharField(_("changed by"), max_length=150)
    changed_at = models.DateTimeField(_("changed at"))
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("agency rule change")
        verbose_name_plural = _("agency rule changes")

    def __str__(self) -> str:
        # A title people read (the admin's page title and breadcrumbs): agency, local time, who.
        when = timezone.localtime(self.changed_at).strftime("%Y-%m-%d %H:%M")
        person = self.changed_by
        if person is not None and person.real_name:
            who = person.real_name
        elif self.changed_by_name in ("", "system"):
            who = str(_("the system"))
        else:
            who = self.changed_by_name
        return f"{self.agency_code} {when} {who}"


class ProvinceMode(models.Model):
    """A province's mode for the moves within it, in force from a date (domain.md "Provinces' own
    modes"): data, never code. A case within the province runs by the mode in force on the day it
    was submitted (the latest ``effective_from`` on or before it); none: the national process."""

    province = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="modes",
        verbose_name=_("province"),
        limit_choices_to={"level": AgencyLevel.PROVINCE},
    )
    effective_from = models.DateField(_("in force from"))
    mode = models.CharField(_("mode"), max_length=10, choices=IntraProvinceMode.choices)
    basis = models.CharField(
        _("basis"), max_length=200, blank=True, help_text=_("The document that sets the mode.")
    )

    class Meta:
        ordering = ["province", "-effective_from"]
        verbose_name = _("intra-province mode")
        verbose_name_plural = _("intra-province modes")
        constraints = [
            models.UniqueConstraint(
                fields=["province", "effective_from"], name="province_mode_one_per_day"
            ),
            models.CheckConstraint(
                name="province_mode_known",
                condition=Q(mode__in=[str(m) for m in IntraProvinceMode]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province_id} {self.effective_from.isoformat()} {self.get_mode_display()}"
