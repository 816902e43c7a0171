"""URL converters of the API; importing this module registers them (once per process)."""

from django.urls import register_converter


class NameConverter:
    """A path segment without NUL (PostgreSQL cannot store it): step names and references."""

    regex = "[^/\x00]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(NameConverter, "name")
