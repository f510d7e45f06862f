"""What every page's layout needs: the large-text mode and the language switch."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

LARGE_TEXT_COOKIE = "text_size"


def page_settings(request: HttpRequest) -> dict[str, Any]:
    return {"large_text": request.COOKIES.get(LARGE_TEXT_COOKIE) == "large"}
