"""The paginator of big lists: an exact count up to a cap, PostgreSQL's estimate past it."""

import pytest
from django.db import connection
from django.urls import reverse

from core.paginators import EstimatedCountPaginator
from inventory.models import Product
from tests.factories import ProductFactory


class SmallCap(EstimatedCountPaginator):
    cap = 3


@pytest.mark.django_db
def test_it_counts_exactly_up_to_the_cap():
    # given
    ProductFactory.create_batch(3)
    # when
    paginator = SmallCap(Product.objects.order_by("sku"), 2)
    # then
    assert (paginator.count, paginator.capped, paginator.estimate) == (3, False, None)


@pytest.mark.django_db
def test_past_the_cap_it_stops_counting_and_says_so(django_assert_max_num_queries):
    # given
    ProductFactory.create_batch(5)
    paginator = SmallCap(Product.objects.filter(active=True).order_by("sku"), 2)
    # when
    with django_assert_max_num_queries(1):
        count = paginator.count
    # then: a filtered list has no estimate: only "more than 3"
    assert (count, paginator.capped, paginator.estimate) == (4, True, None)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_whole_big_table_is_told_by_postgresqls_estimate():
    # given
    ProductFactory.create_batch(6)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_product")
    # when
    paginator = SmallCap(Product.objects.order_by("sku"), 2)
    # then
    assert paginator.capped
    assert paginator.estimate == 6


@pytest.mark.django_db
def test_the_order_changelist_counts_with_it(admin_client_logged):
    # when
    response = admin_client_logged.get(reverse("admin:orders_order_changelist"))
    # then
    assert response.status_code == 200
    assert isinstance(response.context["cl"].paginator, EstimatedCountPaginator)
