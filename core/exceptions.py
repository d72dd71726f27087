"""The base of every domain error: a message for a person, the field it is about, an HTTP status."""


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
