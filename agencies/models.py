"""The medical insurance agencies: one per pooling area, keyed by its GB/T 2260 code.

Accounts, clocks and cases refer to an agency; its windows and policies are in ``agencies.policies``.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agencies.policies import (
    DEFAULT_ESCALATION_DAYS,
    NATIONAL_BALANCE_DAYS,
    NATIONAL_TRANSFER_IN_DAYS,
    NATIONAL_TRANSFER_OUT_DAYS,
    BalancePolicy,
)

agency_code_validator = RegexValidator(
    r"^[1-8]\d{5}$", _("An agency code is 6 digits (GB/T 2260).")
)


class AgencyLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    PREFECTURE = "prefecture", _("Prefecture")
    COUNTY = "county", _("County")


class Agency(models.Model):
    """A medical insurance agency, identified by its pooling area's GB/T 2260 code."""

    code = models.CharField(max_length=6, primary_key=True, validators=[agency_code_validator])
    name = models.CharField(max_length=60)
    province_code = models.CharField(max_length=6)
    province_name = models.CharField(max_length=30)
    level = models.CharField(max_length=12, choices=AgencyLevel.choices)
    transfer_out_days = models.PositiveSmallIntegerField(
        default=NATIONAL_TRANSFER_OUT_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(NATIONAL_TRANSFER_OUT_DAYS)],
    )
    transfer_in_days = models.PositiveSmallIntegerField(
        default=NATIONAL_TRANSFER_IN_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(NATIONAL_TRANSFER_IN_DAYS)],
    )
    balance_days = models.PositiveSmallIntegerField(
        default=NATIONAL_BALANCE_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(NATIONAL_BALANCE_DAYS)],
    )
    balance_policy = models.CharField(
        max_length=10, choices=BalancePolicy.choices, default=BalancePolicy.TRANSFER
    )
    escalation_days = models.PositiveSmallIntegerField(
        default=DEFAULT_ESCALATION_DAYS, validators=[MinValueValidator(1)]
    )
    is_active = models.BooleanField(default=True)
    # The agency's own system, told of its cases' state changes and SLA alerts (notifications
    # channel "webhook"): a JSON POST signed with HMAC-SHA256 over the timestamp and the body.
    webhook_url = models.URLField(blank=True, max_length=500)
    webhook_secret = models.CharField(blank=True, max_length=200)

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
