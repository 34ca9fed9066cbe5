"""Error responses shaped like Zendesk's."""

from http import HTTPStatus

from django.http import HttpResponse, JsonResponse


class ApiError(Exception):
    """Raised by an endpoint to answer with a Zendesk-style JSON error."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def response(self) -> JsonResponse:
        return json_error(self.status, self.error, self.description)


def json_error(status: int, error: str, description: str) -> JsonResponse:
    return JsonResponse({"error": error, "description": description}, status=status)


def too_many_requests(retry_after: int | None) -> HttpResponse:
    """Zendesk answers 429 with an HTML page, not JSON; clients must cope."""
    body = (
        "<html><head><title>429 Too Many Requests</title></head><body>"
        "<h1>Too Many Requests</h1>"
        "<p>You have made too many requests. Wait and try again.</p>"
        "</body></html>"
    )
    response = HttpResponse(body, status=429, content_type="text/html; charset=utf-8")
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def status_error(status: int) -> JsonResponse:
    """A generic JSON error for a status code, e.g. a 503 from a fault."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return json_error(status, phrase.replace(" ", ""), f"Sandbox fault: {phrase}")
