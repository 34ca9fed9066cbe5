from django.http import HttpRequest, HttpResponseNotFound
from django.template import loader


def not_found(request: HttpRequest, exception: Exception) -> HttpResponseNotFound:
    """The 404 page, with the view's own message when it gave one in words
    (a URL that matches nothing carries only Django's internal details)."""
    first = exception.args[0] if exception.args else None
    message = first if isinstance(first, str) else ""
    page = loader.render_to_string("404.html", {"message": message}, request)
    return HttpResponseNotFound(page)
