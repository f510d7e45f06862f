"""A last line of defence: mask anything shaped like a resident ID number in every log record.

The code never logs a plain ID number on purpose; this filter catches the accidents (an exception
message echoing input, a third-party library logging a request body).
"""

from __future__ import annotations

import logging

from core.identity import mask_id_numbers


class MaskIdNumbersFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_id_numbers(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, masked, so the handler does not print the raw one. The
            # message is rendered first: a "%" in the traceback must not meet the record's args.
            formatted = logging.Formatter().formatException(record.exc_info)
            record.msg = f"{masked}\n{mask_id_numbers(formatted)}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
