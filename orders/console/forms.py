"""Forms of the orders console and of the admin actions that need a few words first."""

from django import forms

from fulfilment.models import RejectReason
from orders.models import MAX_LINE_QUANTITY

REJECT_REASON_CHOICES = [
    (RejectReason.OUT_OF_STOCK, "Out of stock (corrects on hand)"),
    (RejectReason.DAMAGED, "Damaged (writes the units off)"),
    (RejectReason.NO_CAPACITY, "No capacity"),
    (RejectReason.OTHER, "Other"),
]


# order_cancel and order_line_cancel write the reason into a public timeline entry.
CUSTOMER_SEES = "Shown to the customer on the tracking page."


class OrderCancelForm(forms.Form):
    reason = forms.CharField(max_length=255, required=False, help_text=CUSTOMER_SEES)


class LineCancelForm(forms.Form):
    quantity = forms.IntegerField(
        min_value=1,
        max_value=MAX_LINE_QUANTITY,
        required=False,
        help_text="Every unit not yet shipped when left empty.",
    )
    reason = forms.CharField(max_length=255, required=False, help_text=CUSTOMER_SEES)


class NoteForm(forms.Form):
    text = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Internal: never shown to the customer.",
    )


class ShipForm(forms.Form):
    carrier = forms.CharField(max_length=64)
    tracking_number = forms.CharField(max_length=128)


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=255)
    reason_code = forms.ChoiceField(choices=REJECT_REASON_CHOICES, initial=RejectReason.OTHER)
