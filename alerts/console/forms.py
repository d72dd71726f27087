"""The alerts page's filter and snooze forms: parse the query and the POST, nothing else."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from alerts.models import Alert

UNRESOLVED = "unresolved"


class AlertFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All kinds"), *Alert.Kind.choices], required=False)
    status = forms.ChoiceField(
        choices=[(UNRESOLVED, "Open or acknowledged"), ("", "Any"), *Alert.Status.choices],
        required=False,
    )
    location = forms.CharField(required=False, max_length=32, help_text="Location code.")
    snoozed = forms.BooleanField(required=False, label="Show snoozed")


class SnoozeForm(forms.Form):
    until = forms.DateField(
        required=False, help_text="Until the start of this day (local time); default tomorrow."
    )

    def clean_until(self):
        day = self.cleaned_data["until"] or timezone.localdate() + timedelta(days=1)
        if day <= timezone.localdate():
            raise forms.ValidationError("Snooze until a day after today.")
        return day

    def until_moment(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.cleaned_data["until"], time.min))
