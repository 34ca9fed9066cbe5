"""The sandbox's macro endpoints: listing, showing and previewing macros."""

from django.http import HttpRequest, JsonResponse

from .gateway import api_endpoint
from .models import Macro
from .pagination import offset_listing
from .payloads import macro_payload
from .shortcuts import bool_param, get_or_404


@api_endpoint("GET")
def macros(request: HttpRequest) -> JsonResponse:
    rows = Macro.objects.order_by("position", "id")
    active = bool_param(request, "active")
    if active is not None:
        rows = rows.filter(active=active)
    return JsonResponse(offset_listing(request, rows, "macros", macro_payload))


@api_endpoint("GET")
def active_macros(request: HttpRequest) -> JsonResponse:
    rows = Macro.objects.filter(active=True).order_by("position", "id")
    return JsonResponse(offset_listing(request, rows, "macros", macro_payload))


@api_endpoint("GET")
def macro_detail(request: HttpRequest, macro_id: int) -> JsonResponse:
    macro = get_or_404(Macro.objects, macro_id)
    return JsonResponse({"macro": macro_payload(request, macro)})
