"""Reading response bodies that may or may not be the JSON they claim to be."""

from typing import Any

import requests


def json_object(response: requests.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is empty, HTML or a bare value.

    Zendesk answers some errors (429 above all) with an HTML page, so a body
    is only trusted once it has parsed.
    """
    if not response.content:
        return None

    try:
        data = response.json()
    except ValueError:
        return None

    return data if isinstance(data, dict) else None
