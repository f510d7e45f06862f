"""A stored file as an HTTP download, the same for every face that hands one out (the API, the
pages): private, never cached by shared caches, never sniffed as something else."""

from __future__ import annotations

from django.http import FileResponse, HttpResponse

from cases.models import Attachment
from cases.services.attachments import attachment_open


def private_download(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def attachment_response(attachment: Attachment) -> FileResponse:
    extension = attachment.storage_name.rsplit(".", 1)[-1]
    response = FileResponse(
        attachment_open(attachment),
        content_type=attachment.content_type,
        as_attachment=True,
        filename=f"{attachment.case.reference}-{attachment.pk}.{extension}",
    )
    private_download(response)
    return response
