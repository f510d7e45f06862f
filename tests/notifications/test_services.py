"""The outbox services in this process, without a worker: claims, leases, the sweeper, retries,
and what delivery writes to the log."""

from __future__ import annotations

import logging

import pytest

from notifications.sms import LoggingSmsGateway


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812345678", "138****5678"),
        ("8613812345678", "861******5678"),
        ("1234567", "***4567"),
        ("02012345", "****2345"),
        ("12345", "****"),
    ],
)
def test_the_logging_sms_gateway_never_logs_a_whole_phone_number(phone, shown, caplog):
    with caplog.at_level(logging.INFO, logger="notifications.sms"):
        LoggingSmsGateway().send(phone=phone, text="您的申请已受理", key="status:1:sms")
    [record] = caplog.records
    assert f"to={shown} " in record.getMessage()
    assert phone not in record.getMessage()
