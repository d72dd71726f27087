"""Domain errors of the sourcing engine."""


class InvalidInstance(ValueError):
    """An instance that breaks the contract; the message names the offending field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class UnknownStrategy(ValueError):
    """A strategy name that the engine does not know."""
