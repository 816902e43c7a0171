"""Strict serializer fields: a value of the wrong JSON type is refused, never coerced.

DRF's own fields accept `12` for a string and `"1"` for an integer; for money and quantities a
client that sends the wrong type has a bug we want to tell it about, not guess around.
"""

from __future__ import annotations

import re
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# ASCII digits only ("١٠٠" is not an amount), no sign, exponent, underscore or trailing dot.
DECIMAL_STRING = re.compile(r"(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?", re.ASCII)


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "A JSON integer is required."}

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "pattern": f"^{DECIMAL_STRING.pattern}$", "example": "12.50"})
class MoneyField(serializers.CharField):
    """An amount as a decimal string with at most 2 places: "12.50", "3", never 12.5 or "1e2"."""

    default_error_messages = {
        "invalid": 'A decimal string with at most 2 decimal places is required, e.g. "12.50".',
        "positive": "Must be more than 0.",
    }

    # The pattern bounds the length; CharField's length validators would be handed the Decimal.
    def to_internal_value(self, data) -> Decimal:
        if not isinstance(data, str) or not DECIMAL_STRING.fullmatch(data):
            self.fail("invalid")
        value = Decimal(data)
        if value <= 0:
            self.fail("positive")
        return value

    def to_representation(self, value) -> str:
        return str(value)
