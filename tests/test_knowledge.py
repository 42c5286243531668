"""SPEC §8 knowledge: parameters → product and product → parameters, canned replies and the
question log in one scoped search; Chinese matched as substrings, never split into words."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.commerce.models import Product
from kefu.commerce.services import parameters_parse, product_knowledge_set
from kefu.core.errors import ApplicationError
from kefu.core.models import Event
from kefu.desk import selectors

from .conftest import PASSWORD, World
from .factories import ProductFactory

pytestmark = pytest.mark.django_db


def _robot(world: World, **params: str) -> Any:
    product = ProductFactory(shop=world.shop_a, sku="HDC-001", title="海盗船扫地机器人 Pro")
    return product_knowledge_set(actor=world.supervisor, product=product, parameters=params, category="扫地机器人")


def test_parameters_find_the_product_and_the_product_shows_its_parameters(world: World) -> None:
    robot = _robot(world, 吸力="3000Pa", 续航="150分钟", 颜色="白色")
    other = ProductFactory(shop=world.shop_a, sku="HDC-002", title="海盗船电热水壶")
    product_knowledge_set(actor=world.supervisor, product=other, parameters={"容量": "1.7L", "颜色": "白色"})
    hidden = ProductFactory(shop=world.shop_b, sku="MJR-001", title="魔甲人扫地机器人")
    product_knowledge_set(actor=world.supervisor, product=hidden, parameters={"吸力": "3000Pa"})

    k = selectors.knowledge_search(actor=world.agent_a, q="3000pa 白色")  # parameters → product
    assert [h.product.pk for h in k.products] == [robot.pk]
    assert k.products[0].matched == [("吸力", "3000Pa"), ("颜色", "白色")]
    assert k.products[0].others == [("续航", "150分钟")]
    k = selectors.knowledge_search(actor=world.agent_a, q="扫地机器人")  # product → parameters
    assert [h.product.pk for h in k.products] == [robot.pk]  # the other team's shop stays out
    assert dict(k.products[0].matched + k.products[0].others)["续航"] == "150分钟"
    # a Chinese run is a substring, not a word: "机器" finds "扫地机器人", "分钟" finds "150分钟"
    assert [h.product.pk for h in selectors.knowledge_search(actor=world.agent_a, q="机器").products] == [robot.pk]
    assert [h.product.pk for h in selectors.knowledge_search(actor=world.agent_a, q="吸力:3000").products] == [robot.pk]
    assert {h.product.pk for h in selectors.knowledge_search(actor=world.agent_a, q="白色").products} == {
        robot.pk,
        other.pk,
    }
    assert selectors.knowledge_search(actor=world.agent_a, q="白色 1.7l 吸力").products == []  # all terms must match
    # full-width punctuation as Chinese users type it: ，、；split terms, ：is the name:value colon
    assert selectors.knowledge_terms("3000pa\uff0c白色\u3001续航\uff1b吸力\uff1a3000") == [
        "3000pa",
        "白色",
        "续航",
        "吸力:3000",
    ]
    assert [
        h.product.pk for h in selectors.knowledge_search(actor=world.agent_a, q="吸力\uff1a3000pa\uff0c白色").products
    ] == [robot.pk]
    assert selectors.knowledge_search(actor=world.agent_a, q="  ").products == []
    boss = selectors.knowledge_search(actor=world.supervisor, q="3000pa")
    assert {h.product.pk for h in boss.products} == {robot.pk, hidden.pk}


def test_the_page_the_conversation_embed_and_the_api(world: World) -> None:
    _robot(world, 吸力="3000Pa", 颜色="白色")
    agent = Client()
    agent.login(username="agent_a", password=PASSWORD)
    page = agent.get("/desk/knowledge/", {"q": "3000Pa"}).content.decode()
    assert "海盗船扫地机器人 Pro" in page and "<mark>吸力</mark>" in page
    embed = agent.get("/desk/knowledge/", {"q": "白色", "embed": "1", "shop": world.shop_a.pk})
    assert embed.status_code == 200 and "<html" not in embed.content.decode()
    assert agent.get("/desk/knowledge/", {"q": "白色", "shop": world.shop_b.pk}).status_code == 404
    api = agent.get("/api/v1/desk/knowledge", {"q": "白色 3000pa"}).json()
    assert api["terms"] == ["白色", "3000pa"]
    assert api["products"][0]["parameters"] == {"吸力": "3000Pa", "颜色": "白色"}
    assert api["products"][0]["matched"] == ["吸力", "颜色"]


def test_team_leads_edit_parameters_agents_cannot_and_bad_lines_are_named(world: World) -> None:
    robot = _robot(world, 吸力="3000Pa")
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    r = lead.post(f"/products/{robot.pk}/", {"category": "扫地机器人", "parameters": "吸力:4000Pa\n颜色=黑色"})
    assert r.status_code == 302
    robot.refresh_from_db()
    assert robot.parameters == {"吸力": "4000Pa", "颜色": "黑色"}
    assert "颜色:黑色" in robot.search_text
    assert Event.objects.filter(verb="product.knowledge_changed", subject_id=robot.pk).count() == 2
    r = lead.post(f"/products/{robot.pk}/", {"parameters": "吸力:4000Pa\n只有名字"})
    assert r.status_code == 200 and "第 2 行" in r.content.decode()
    robot.refresh_from_db()
    assert robot.parameters == {"吸力": "4000Pa", "颜色": "黑色"}  # nothing half-saved
    agent = Client()
    agent.login(username="agent_a", password=PASSWORD)
    assert agent.post(f"/products/{robot.pk}/", {"parameters": "吸力:1Pa"}).status_code == 403
    with pytest.raises(ApplicationError):
        parameters_parse("名称:")
    assert parameters_parse("电压\uff1a220V\n颜色=白色\n尺寸: 30cm") == {"电压": "220V", "颜色": "白色", "尺寸": "30cm"}


TEXT = st.text(alphabet=st.sampled_from("扫地机器人吸力白色黑色续航分钟功率容量abcXYZ0123.-"), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=TEXT, start=st.integers(0, 11), length=st.integers(1, 12))
def test_any_part_of_a_parameter_value_finds_its_product(world: World, value: str, start: int, length: int) -> None:
    Product.objects.filter(shop=world.shop_a, sku="PROP-1").delete()
    product = ProductFactory(shop=world.shop_a, sku="PROP-1", title="x")
    product_knowledge_set(actor=world.supervisor, product=product, parameters={"参数": value})
    part = value[start % len(value) :][:length].strip()
    if part and not any(c in part for c in " ,,、;;。"):
        found = selectors.knowledge_search(actor=world.supervisor, q=part, shop=world.shop_a.pk).products
        assert product.pk in {h.product.pk for h in found}
    Product.objects.filter(pk=product.pk).delete()


def test_overlong_or_repeated_parameters_are_refused_not_cut() -> None:
    for text in ("名" * 41 + ":x", "名称:" + "x" * 201, "颜色:白\n颜色:黑"):
        with pytest.raises(ApplicationError):
            parameters_parse(text)
