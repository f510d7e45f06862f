"""A last line of defence: mask anything shaped like a resident ID number in every log record.

The code never logs a plain ID number on purpose; this filter catches the accidents (an exception
message echoing input, a third-party library logging a request body).
"""

from __future__ import annotations

import logging
import re

# 6-digit address, 8-digit birth date, 3-digit sequence, check character; not inside a longer run
# of digits (a phone number or an amount is never 18 characters of this shape).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])([1-8]\d{5})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_id_numbers(text: str) -> str:
    return _ID_NUMBER.sub(lambda m: m.group(1) + "********" + m.group(2), text)


class MaskIdNumbersFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_id_numbers(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, masked, so the handler does not print the raw one.
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = mask_id_numbers(formatted)
            record.exc_info = None
            record.msg = f"{record.msg}\n{record.exc_text}"
            record.exc_text = None
        return True
