"""Domain errors of the sourcing engine."""


class InvalidJson(ValueError):
    """JSON that breaks the contract; the message names the offending field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class InvalidInstance(InvalidJson):
    """An instance that breaks the contract (callers turn it into a 400)."""


class InvalidPlan(InvalidJson):
    """A plan whose JSON does not have the contract's shape."""


class UnknownStrategy(ValueError):
    """A strategy name that the engine does not know."""
