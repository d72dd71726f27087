"""Changelist rendering that stays cheap on the big tables (orders, fulfilments, stock).

On those lists most of a page's time is Python drawing its rows, not SQL; each row's
action checkbox alone went through a widget template (a third of a 100-row page).
"""

from __future__ import annotations

from django.contrib.admin import helpers
from django.db.models import Model
from django.utils.html import format_html
from django.utils.translation import gettext as _


class QuickActionCheckbox:
    """Mix into a ModelAdmin (before it): the row checkbox as one string, not a widget.

    The same markup as Django's `ModelAdmin.action_checkbox` (the admin's actions script
    reads its name and class), without rendering a form widget template per row.
    """

    def action_checkbox(self, obj: Model) -> str:
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(_("Select this object for an action - {}"), str(obj)),
        )
