"""The OpenAPI schema says what the API really answers: drf-spectacular documents the success
responses it can see; this hook adds the errors every operation can give (incidents/api.py's
exception handler), so a client, and schemathesis, know them.
"""

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Messages per field (or non_field_errors), each a list of strings.",
    "additionalProperties": True,
}
CONFLICT = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "state": {"type": "string"},
        "version": {"type": "integer"},
    },
    "required": ["detail", "state", "version"],
}
DESCRIPTIONS = {
    "400": "Bad input: what to change, per field. Nothing was changed.",
    "401": "No token, or a wrong one.",
    "403": "The token's role may not do this.",
    "404": "No such object.",
    "409": "The state does not allow this, or the incident changed (its version).",
    "413": "The body is too large.",
    "422": "The same Idempotency-Key was sent with another body.",
    "429": "Too many requests for this token, or too many wrong tokens from this address.",
}


def json(schema, code):
    return {"description": DESCRIPTIONS[code], "content": {"application/json": {"schema": schema}}}


def add_error_responses(result, generator, request, public):
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            errors = {"401": ERROR, "403": ERROR, "429": ERROR}
            if "{id}" in path or method == "get":
                errors["404"] = ERROR  # an id, or a page number past the last
            if method in {"post", "patch", "put"}:
                errors.update({"400": FIELD_ERRORS, "413": ERROR})
            if method == "get":
                errors["400"] = FIELD_ERRORS  # filters, ?lang= and ?state= are checked
            if path.startswith("/api/incidents/{id}") and method in {"post", "patch"}:
                errors["409"] = CONFLICT
            if path == "/api/incidents/" and method == "post":
                errors["422"] = ERROR
            for code, schema in errors.items():
                responses.setdefault(code, json(schema, code))
    return result
