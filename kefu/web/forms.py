from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kefu.core import clock
from kefu.core.params import DayField
from kefu.imports.tabular import FileFormatError, inspect_xlsx, is_xlsx
from kefu.org.models import Shop


class _ChoicesMixin(forms.Form):
    def _choices(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=256)


class PolicyForm(forms.Form):
    effective_from = DayField(label=_("Effective from"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    text = forms.CharField(label=_("Policy (TOML)"), widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from .preview import default_effective

        self.fields["effective_from"].initial = default_effective(clock.today())


class UploadForm(_ChoicesMixin):
    kind = forms.ChoiceField(
        label=_("What"), choices=[("orders", _("Orders (Taobao/Tmall export)")), ("staff", _("Staff list"))]
    )
    shop = forms.TypedChoiceField(label=_("Shop"), required=False, coerce=int, empty_value=None)
    file = forms.FileField(label=_("File (CSV or XLSX)"))

    def __init__(self, *args: Any, shops: list[Shop], allow_staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choices("shop").choices = [("", "—")] + [(s.pk, s.name) for s in shops]
        kinds = [
            ("orders", _("Orders (Taobao/Tmall export)")),
            ("attendance", _("DingTalk attendance (每日统计 / 原始记录)")),
        ]
        if allow_staff:  # the staff list carries salaries: the organisation managers only
            kinds.append(("staff", _("Staff list")))
        self._choices("kind").choices = kinds

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.KEFU_IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("The file is too large."))
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Only CSV or XLSX files are accepted."))
        head = upload.read(4)
        upload.seek(0)
        if is_xlsx(head):  # zip and dimension bombs are refused here, before any reader or queue
            try:
                inspect_xlsx(upload.read())
            except FileFormatError as exc:
                raise forms.ValidationError(str(exc)) from exc
            finally:
                upload.seek(0)
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "orders" and not data.get("shop"):
            self.add_error("shop", _("Choose the shop the orders belong to."))
        return data
