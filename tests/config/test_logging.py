from __future__ import annotations

import logging

from config.logging_filters import MaskIdNumbersFilter
from core.identity import mask_id_numbers


def test_mask_id_numbers_in_text():
    assert mask_id_numbers("id=11010519491231002X ok") == "id=110105********002X ok"
    assert mask_id_numbers("id=11010519491231002x") == "id=110105********002x"
    # Not an ID number: too long, or a phone number.
    assert mask_id_numbers("1101051949123100211") == "1101051949123100211"
    assert mask_id_numbers("13812345678") == "13812345678"


def test_filter_masks_messages_args_and_tracebacks():
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "submitted %s", ("11010519491231002X",), None
    )
    try:
        raise ValueError("bad 11010519491231002X")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert MaskIdNumbersFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "11010519491231002X" not in text
    assert "110105********002X" in text
    assert "ValueError" in text


def test_a_percent_sign_in_a_traceback_does_not_break_the_message():
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "could not queue %d notification(s)", (3,), None
    )
    try:
        raise ValueError("rate 100%d of %s")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert MaskIdNumbersFilter().filter(record)
    text = logging.Formatter().format(record)
    assert text.startswith("could not queue 3 notification(s)\n")
    assert "ValueError: rate 100%d of %s" in text
