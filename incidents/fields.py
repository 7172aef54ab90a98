"""Model fields that normalise what people type before they check it.

'0471 23 45 67' is stored as '+32471234567', '0694.679.950' as '0694679950'. The same
normalisation runs in model validation, in forms and in the API (see api.py).
"""

from django import forms
from django.db import models

from .identifiers import (
    normalize_enterprise_number,
    normalize_phone,
    validate_enterprise_number,
    validate_phone,
)


class NormalizingFormField(forms.CharField):
    def __init__(self, *, normalizer, **kwargs):
        self.normalizer = normalizer
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return self.normalizer(value) if value else value


class NormalizingCharField(models.CharField):
    normalizer = staticmethod(str)
    default_max_length = 32

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", self.default_max_length)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return self.normalizer(value) if value else value

    def formfield(self, **kwargs):
        return super().formfield(
            **{"form_class": NormalizingFormField, "normalizer": self.normalizer, **kwargs}
        )


class PhoneNumberField(NormalizingCharField):
    """E.164, e.g. +32471234567."""

    normalizer = staticmethod(normalize_phone)
    default_max_length = 16
    default_validators = [validate_phone]


class EnterpriseNumberField(NormalizingCharField):
    """KBO/BCE enterprise number, ten digits with a mod-97 check."""

    normalizer = staticmethod(normalize_enterprise_number)
    default_max_length = 10
    default_validators = [validate_enterprise_number]
