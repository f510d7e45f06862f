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


def test_no_django_logger_has_a_handler_of_its_own_that_skips_the_mask():
    """Django's default logging gives ``django`` a DEBUG-only console and ``django.server`` its own
    handler; both would print a request's URL a second time, unmasked."""
    for name in ("django", "django.request", "django.server", "django.security"):
        logger = logging.getLogger(name)
        while logger is not None:
            # pytest's own capture handlers sit on the root logger while tests run.
            ours = [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
            for handler in ours:
                assert any(isinstance(f, MaskIdNumbersFilter) for f in handler.filters), (
                    name,
                    logger.name,
                    handler,
                )
            logger = logger.parent if logger.propagate else None


def test_gunicorn_access_and_error_lines_are_masked():
    import io

    from gunicorn.config import Config

    from config.gunicorn_logging import MaskingLogger

    out = io.StringIO()
    gunicorn_logger = MaskingLogger(Config())
    for log in (gunicorn_logger.access_log, gunicorn_logger.error_log):
        log.addHandler(logging.StreamHandler(out))
        log.setLevel(logging.INFO)
    # An access line: gunicorn formats its atoms as a mapping.
    gunicorn_logger.access_log.info(
        '%(h)s "%(r)s" %(s)s',
        {"h": "10.0.0.1", "r": "GET /admin/?q=11010519491231002X", "s": "200"},
    )
    gunicorn_logger.error_log.error("bad request line /x/11010519491231002X")
    text = out.getvalue()
    assert "11010519491231002X" not in text
    assert '10.0.0.1 "GET /admin/?q=110105********002X" 200' in text
    assert "bad request line /x/110105********002X" in text
