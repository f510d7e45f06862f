"""A signed document as an HTTP download, the same for the API and the pages."""

from __future__ import annotations

from django.http import HttpResponse

from cases.downloads import private_download
from documents.services import Issued


def document_response(issued: Issued) -> HttpResponse:
    response = HttpResponse(issued.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{issued.document.number}.pdf"'
    response["ETag"] = f'"{issued.document.sha256}"'
    private_download(response)
    return response
