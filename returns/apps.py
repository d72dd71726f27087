from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self) -> None:
        from orders.order_returns import order_returns_register
        from returns.representation import return_representation, returns_of_orders

        # An order's answer and page list its returns in the returns endpoints' shape.
        order_returns_register(prefetch=returns_of_orders, draw=return_representation)
