"""Admin exports (django-import-export) of many rows handed to a background runner.

A small export still answers its file in the request. A bigger one is handed to the
runner the console registers in its `AppConfig.ready` (`background_export_register`): it
records the rows and the form's choices and answers where the file will be. The admins of
every app use the mixin; none of them imports the console, which sits above them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict

from core.replica import heavy_reads

# The export form's own fields which do not say what to write.
_FORM_NOISE = ("csrfmiddlewaretoken", "export_items")

# (model_admin, request, file_format index, form data, queryset) -> the answer to the request
Runner = Callable[..., HttpResponse]
_runner: Runner | None = None


def background_export_register(runner: Runner) -> None:
    """Hand exports above OMS_EXPORT_SYNC_MAX_ROWS rows to `runner`."""
    global _runner
    _runner = runner


class BackgroundExportMixin:
    """Send an export of more than OMS_EXPORT_SYNC_MAX_ROWS rows to a background job.

    Put it before django-import-export's ExportMixin (or ImportExportModelAdmin) in the
    bases of a ModelAdmin. Without a registered runner every export answers in the request.
    """

    def _do_file_export(
        self,
        file_format: Any,
        request: HttpRequest,
        queryset: QuerySet[Any],
        export_form: Any = None,
    ) -> HttpResponse:
        limit = settings.OMS_EXPORT_SYNC_MAX_ROWS
        # Bounded: a changelist of millions of rows is not counted to say "more than 2000".
        if _runner is None or queryset.values("pk")[: limit + 1].count() <= limit:
            # Only reads, whose file is the answer: from the read replica when it keeps up.
            # (The job's ids below are written down, so they are read on the primary.)
            with heavy_reads():
                # The ModelAdmin this is mixed into (django-import-export's) defines both.
                return super()._do_file_export(  # type: ignore[misc,no-any-return]
                    file_format, request, queryset, export_form
                )
        formats = list(self.get_export_formats())  # type: ignore[attr-defined]
        data = export_form.data if export_form is not None else QueryDict()
        return _runner(
            model_admin=self,
            request=request,
            file_format=formats.index(type(file_format)),
            form_data={key: data.getlist(key) for key in data if key not in _FORM_NOISE},
            queryset=queryset,
        )
