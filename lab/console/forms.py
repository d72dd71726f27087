"""The sourcing lab's form: a period and a policy to try on it."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from sourcing import STRATEGIES

# lab.policy names the option a refusal is about; the form shows it on its field.
FIELD_OF = {
    "from": "first_day",
    "to": "last_day",
    "strategy": "strategy",
    "set": "split_penalty",
    "exclude_location": "exclude",
    "let_ship": "let_ship",
    "cost_file": "costs",
}
MAX_COST_FILE_BYTES = 1_000_000


class ReplayForm(forms.Form):
    name = forms.CharField(max_length=128, required=False)
    first_day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    strategy = forms.ChoiceField(choices=[(s, s) for s in STRATEGIES])
    split_penalty = forms.DecimalField(
        min_value=0, max_value=1_000_000, decimal_places=2, required=False
    )
    max_shipments = forms.IntegerField(min_value=1, max_value=1000, required=False)
    exclude = forms.CharField(
        label="Exclude locations",
        required=False,
        max_length=1000,
        help_text="Codes, comma-separated; CODE:FIRST..LAST for some days only.",
    )
    let_ship = forms.CharField(
        label="Let ship",
        required=False,
        max_length=1000,
        help_text="Codes of locations that should ship parcels; STORES for every store.",
    )
    costs = forms.FileField(
        label="Cost file",
        required=False,
        help_text="CSV location,shipment_cost,cost_per_km,unit_cost.",
    )

    def clean_costs(self) -> str:
        upload = self.cleaned_data.get("costs")
        if not upload:
            return ""
        if upload.size > MAX_COST_FILE_BYTES:
            raise forms.ValidationError("A cost file is at most 1 MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The cost file is not UTF-8 text.") from None

    @classmethod
    def initial_for(cls, live: dict) -> dict:
        today = timezone.localdate()
        return {
            "first_day": today.replace(day=1),
            "last_day": today,
            "strategy": live["strategy"],
            "split_penalty": live["split_penalty"],
            "max_shipments": live["max_shipments"],
        }


def codes(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
