"""Model fields shared by the apps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models

from core.text import TextRefused, code_normalise

if TYPE_CHECKING:
    _CharField = models.CharField[Any, Any]
else:  # generic only to the type checker
    _CharField = models.CharField


class NaturalKeyCharField(_CharField):
    """A SKU or a code: kept in its normal form (core.text.code_normalise).

    Model validation (the admin's forms, imports that clean their rows) normalises the
    value and refuses invisible and control characters; the API's fields do the same
    before a service sees the value. Uniqueness ignoring case is a functional unique
    index on the model (`Upper(field)`).
    """

    description = "A natural key (SKU or code), NFKC and trimmed"

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not isinstance(value, str) or value == "":
            return value
        try:
            return code_normalise(value, what=str(self.verbose_name).capitalize())
        except TextRefused as refused:
            raise ValidationError(str(refused), code="invalid") from None
