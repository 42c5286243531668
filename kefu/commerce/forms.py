from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.core.params import DayField
from kefu.imports.address import PROVINCES

from .models import Flag, OrderStatus
from .selectors import OrderFilters


class _ChoicesMixin(forms.Form):
    def _choices(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field


class OrderFilterForm(_ChoicesMixin):
    q = forms.CharField(label=_("Order no. / buyer / tracking no."), required=False, max_length=100)
    shop = forms.TypedChoiceField(label=_("Shop"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False)
    province = forms.ChoiceField(label=_("Province"), required=False)
    flag = forms.TypedChoiceField(label=_("Flag"), required=False, coerce=int, empty_value=None)
    date_from = DayField(label=_("From"), required=False)
    date_to = DayField(label=_("To"), required=False)
    memo_invalid = forms.BooleanField(label=_("Remark not in R-COM-1 format"), required=False)

    def __init__(self, *args: Any, shops: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self._choices("shop").choices = everything + list(shops)
        self._choices("status").choices = everything + list(OrderStatus.choices)
        self._choices("province").choices = everything + [(p, p) for p in PROVINCES]
        self._choices("flag").choices = everything + list(Flag.choices)

    def filters(self) -> OrderFilters:
        d = self.cleaned_data
        return OrderFilters(
            shop=d.get("shop"),
            status=d.get("status") or None,
            province=d.get("province") or None,
            flag=d.get("flag"),
            date_from=d.get("date_from"),
            date_to=d.get("date_to"),
            q=d.get("q") or None,
            memo_invalid=bool(d.get("memo_invalid")),
        )


class RemarkForm(forms.Form):
    shipping = forms.CharField(label=_("Shipping method"), max_length=40)
    gift = forms.CharField(label=_("Gift"), max_length=60, required=False)
    special = forms.CharField(label=_("Other requirements"), max_length=200, required=False)
