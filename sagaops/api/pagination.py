"""Cursor pagination that answers a forged or garbled cursor with 400 naming `cursor`.

DRF decodes the cursor's position and hands it to the database as is: a crafted position
("p=2026-13-45", "p=xyz" for an integer ordering) reached PostgreSQL and came back as a 500.
"""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

INVALID_CURSOR = "invalid cursor: use the next/previous links of an earlier answer"


class CheckedCursorPagination(CursorPagination):
    """Subclasses say how a position must parse (`position_is_valid`)."""

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from None
        if cursor is not None and cursor.position is not None and not self.position_is_valid(cursor.position):
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]})
        return cursor

    def position_is_valid(self, position: str) -> bool:
        raise NotImplementedError


class NewestFirst(CheckedCursorPagination):
    ordering = "-created_at"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500

    def position_is_valid(self, position: str) -> bool:
        try:
            return parse_datetime(position) is not None
        except ValueError:  # well formed but impossible, e.g. month 13
            return False


class Timeline(CheckedCursorPagination):
    ordering = "id"
    page_size = 200
    page_size_query_param = "limit"
    max_page_size = 1000

    def position_is_valid(self, position: str) -> bool:
        return position.isascii() and position.isdigit() and len(position) <= 19
