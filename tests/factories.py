from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from kefu.commerce.models import Customer, Order, OrderLine, OrderStatus, Product
from kefu.org.models import Position, Shop, Staff, Team

TZ = dt.timezone(dt.timedelta(hours=8))


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    name = factory.Sequence(lambda n: f"店铺{n}")
    code = factory.Sequence(lambda n: f"shop{n}")
    platform = "tmall"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"团队{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-secret-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    employee_no = factory.Sequence(lambda n: f"E{n:04d}")
    name = factory.Sequence(lambda n: f"员工{n}")
    position = Position.PRESALES
    team = factory.SubFactory(TeamFactory)
    base_salary = Decimal("4500.00")
    user = factory.SubFactory(UserFactory)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    shop = factory.SubFactory(ShopFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    title = factory.Sequence(lambda n: f"商品{n}")
    price = Decimal("99.00")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    platform = "tmall"
    nick = factory.Sequence(lambda n: f"tb_buyer{n}")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    shop = factory.SubFactory(ShopFactory)
    order_no = factory.Sequence(lambda n: f"{3515000000000000 + n}")
    customer = factory.SubFactory(CustomerFactory)
    buyer_nick = factory.LazyAttribute(lambda o: o.customer.nick if o.customer else "")
    status = OrderStatus.PAID
    province = "江苏"
    goods_amount = Decimal("100.00")
    total_amount = Decimal("100.00")
    paid_amount = Decimal("100.00")
    ordered_at = factory.Sequence(lambda n: dt.datetime(2026, 10, 1, 8, 0, tzinfo=TZ) + dt.timedelta(minutes=n))


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    line_key = factory.Sequence(lambda n: str(n))
    title = "商品"
    price = Decimal("100.00")
