"""``__in_array`` (kefu.core.lookups): the rows ``__in`` finds, with one parameter on PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from kefu.org.models import Shop

from .factories import ShopFactory


class InArrayTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.shops = [ShopFactory(code=f"s{i}", name=f"店铺{i}") for i in range(6)]

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.one_of(st.none(), st.integers(-5, 10**12), st.sampled_from(["s1", "s3", "店铺4", "x'y"]))))
    def test_it_finds_what_in_finds(self, values: list[Any]) -> None:
        ids = [v + self.shops[0].pk if isinstance(v, int) and v < 10 else v for v in values if not isinstance(v, str)]
        codes = [v for v in values if isinstance(v, str)]
        for lookup, given_values in (("pk", ids), ("code", codes), ("name", codes)):
            expected = set(Shop.objects.filter(**{f"{lookup}__in": given_values}).values_list("pk", flat=True))
            found = set(Shop.objects.filter(**{f"{lookup}__in_array": given_values}).values_list("pk", flat=True))
            assert found == expected

    def test_a_subquery_or_an_expression_on_the_right_is_written_as_in_writes_it(self) -> None:
        chosen = Shop.objects.filter(code__in=["s1", "s2"])
        expected = set(chosen.values_list("pk", flat=True))
        assert set(Shop.objects.filter(pk__in_array=chosen.values("pk")).values_list("pk", flat=True)) == expected
        same = Shop.objects.filter(pk__in_array=chosen.values_list("pk", flat=True))
        assert set(same.values_list("pk", flat=True)) == expected
        by_column = Shop.objects.filter(pk__in_array=[F("id")]).count()
        assert by_column == Shop.objects.count()

    def test_the_statement_is_the_same_whatever_the_number_of_values(self) -> None:
        with CaptureQueriesContext(connection) as queries:
            list(Shop.objects.filter(pk__in_array=[1, 2]))
            list(Shop.objects.filter(pk__in_array=list(range(500))))
        if connection.vendor == "postgresql":
            assert "= ANY(" in queries[0]["sql"]
            first, second = (q["sql"].split("ANY(")[0] for q in queries)
            assert first == second
        else:
            assert " IN (" in queries[0]["sql"]
