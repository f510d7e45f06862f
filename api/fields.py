"""Input fields for numbers and dates people type: ASCII digits only (domain.md "Identity data").

DRF's ``IntegerField`` reads ``"１２"`` as 12 (``int()`` takes any script's digits) and its
``DateField`` reads ``"２０２６-１０-３１"`` (Django's ``parse_date`` matches ``\\d``). Both are refused
here with the field's own "invalid" message, before anything else reads them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers

from core.identity import ascii_digits


class AsciiDateField(serializers.DateField):
    def to_internal_value(self, value: Any) -> dt.date:
        if isinstance(value, str) and not value.isascii():
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class AsciiIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        # int() would also take "+12" and "1_2": digits, and nothing else.
        if isinstance(data, str) and not ascii_digits(data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data)
