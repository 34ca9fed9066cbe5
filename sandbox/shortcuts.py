"""Small helpers the sandbox's endpoints share."""

import json

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .responses import ApiError


def get_or_404(rows: QuerySet, pk: object) -> Model:
    found = rows.filter(pk=pk).first()
    if found is None:
        raise ApiError(404, "RecordNotFound", "Not found")
    return found


def json_body(request: HttpRequest) -> object:
    try:
        return json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ApiError(400, "InvalidJSON", "The body is not valid JSON") from error


def bool_param(request: HttpRequest, name: str) -> bool | None:
    """A "true"/"false" query parameter; None when it is absent."""
    raw = request.GET.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ApiError(400, "InvalidValue", f"{name} must be true or false")
