"""The base of every domain error: a message for a person, the field it is about, an HTTP status."""

from typing import Any


class DomainError(Exception):
    http_status = 400
    code = ""

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ConflictError(DomainError):
    http_status = 409


class NotFoundError(DomainError):
    http_status = 404
    code = "not_found"


class FieldErrors(DomainError):
    """Bad input, told field by field: `errors` is the body's `{field: [messages]}`, with
    nested fields and list items nested as the input nests them (core.structs)."""

    def __init__(self, errors: dict[str, Any], *, code: str | None = None):
        first = next(iter(errors), "non_field_errors")
        super().__init__(str(errors[first]) if errors else "Bad input.", field=first, code=code)
        self.errors = errors
