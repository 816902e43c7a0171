"""OpenAPI post-processing: document the JSON error answers every operation can give."""

from drf_spectacular import openapi

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        '`{"error": "<message>"}` with `"field"`, `"status"` (the saga\'s or step\'s current status) or `"code"` '
        "where they apply; invalid input answers DRF's `{<field>: [<message>, ...]}` instead."
    ),
    "additionalProperties": True,
    "example": {"error": "cannot retry forward a completed saga", "status": "completed"},
}

ERRORS = {
    "400": "Bad JSON, a missing field or a wrong type (the field is named)",
    "401": "No token, or an invalid one",
    "403": "Not allowed for this user or service",
    "404": "No such object",
    "405": "Method not allowed",
    "409": "Refused by the current state",
    "413": "Request body too large",
    "415": "Request body is not JSON",
    "422": "A participant refused malformed input",
    "429": "Too many requests for this token",
}


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for code, description in ERRORS.items():
                operation.setdefault("responses", {}).setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
            operation["responses"].setdefault(
                "500", {"description": "Unexpected error (logged)", "content": {"application/json": {"schema": ref}}}
            )
    return result


class AutoSchema(openapi.AutoSchema):
    """Name a view's nested serializers after the view: SagaListApi.InputSerializer -> SagaListApiInput."""

    def get_serializer_name(self, serializer, direction):
        cls = serializer.__class__
        name = super().get_serializer_name(serializer, direction)
        owner, _, _ = cls.__qualname__.rpartition(".")
        return f"{owner.replace('.', '')}{name}" if owner and "<locals>" not in owner else name
