"""Fixtures of the case tests: one case accepted before National Day 2026 (domain.md's dates)."""

from __future__ import annotations

import pytest

from cases.models import TransferCase
from tests.cases.sla import SUBMIT


@pytest.fixture
def case(calendar_2026, submit_case) -> TransferCase:
    return submit_case(**SUBMIT)
