from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    """Cursor pagination (stable under inserts): `?cursor=...&page_size=N` (max 500)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"


class AscendingIdPagination(ApiCursorPagination):
    ordering = "id"


class OrdinalPagination(ApiCursorPagination):
    ordering = "ordinal"
