"""Unit tests of the Zendesk client, with HTTP faked by `responses`."""

import base64
import json
import logging

import pytest
import requests
import responses
from responses import matchers

from zendesk import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    ServerError,
    TicketSummary,
    TooManyJobsError,
    ZendeskClient,
    ZendeskError,
)

BASE = "https://example.zendesk.com"
API = f"{BASE}/api/v2"
EMAIL = "agent@example.com"
API_TOKEN = "api-token-do-not-log"
OAUTH_TOKEN = "oauth-token-do-not-log"

HTML_429 = "<html><body><h1>Too Many Requests</h1></body></html>"


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def waits():
    return []


@pytest.fixture
def make_client(waits):
    def build(**options):
        credentials = {"email": EMAIL, "api_token": API_TOKEN}
        defaults = {"max_retries": 3, "backoff_seconds": 1.0, "sleep": waits.append}
        return ZendeskClient(BASE, **(credentials | defaults | options))

    return build


@pytest.fixture
def client(make_client):
    return make_client()


def ids_query(ids):
    return matchers.query_param_matcher({"ids": ids})


def sent_json(call):
    return json.loads(call.request.body)


def ticket(number):
    return {
        "id": 100 + number,
        "status": "open",
        "tags": ["vip", f"t{number}"],
        "updated_at": "2025-01-01T00:00:00Z",
        "subject": "ignored",
    }


# Authentication


def test_api_token_uses_basic_auth_with_the_token_suffix(http, client):
    http.get(f"{API}/tickets/1.json", json={"ticket": {"id": 1}})

    client.get_ticket(1)

    expected = base64.b64encode(f"{EMAIL}/token:{API_TOKEN}".encode()).decode()
    assert http.calls[0].request.headers["Authorization"] == f"Basic {expected}"


def test_oauth_token_is_sent_as_bearer_and_preferred(http, make_client):
    http.get(f"{API}/tickets/1.json", json={"ticket": {"id": 1}})
    client = make_client(oauth_token=OAUTH_TOKEN)

    client.get_ticket(1)

    assert http.calls[0].request.headers["Authorization"] == f"Bearer {OAUTH_TOKEN}"


@pytest.mark.parametrize(
    "credentials",
    [{}, {"api_token": API_TOKEN}, {"email": EMAIL}],
    ids=["nothing", "token-without-email", "email-only"],
)
def test_missing_credentials_refuse_to_build(credentials):
    with pytest.raises(ConfigurationError):
        ZendeskClient(BASE, **credentials)


def test_repr_names_the_url_but_no_secret(make_client):
    text = repr(make_client(oauth_token=OAUTH_TOKEN))

    assert BASE in text
    assert OAUTH_TOKEN not in text
    assert API_TOKEN not in text


def test_every_call_has_connect_and_read_timeouts(http, make_client):
    http.get(f"{API}/tickets/1.json", json={"ticket": {"id": 1}})
    client = make_client(connect_timeout=2.5, read_timeout=30.0)

    client.get_ticket(1)

    assert http.calls[0].request.req_kwargs["timeout"] == (2.5, 30.0)


def test_from_settings_reads_the_zendesk_settings(settings):
    settings.ZENDESK_URL = "http://127.0.0.1:8000/sandbox"
    settings.ZENDESK_OAUTH_TOKEN = OAUTH_TOKEN
    settings.ZENDESK_MAX_RETRIES = 2

    client = ZendeskClient.from_settings()

    assert client.base_url == "http://127.0.0.1:8000/sandbox"
    assert client.max_retries == 2
    assert "auth=oauth" in repr(client)


# Views


def test_active_views_follow_next_page_on_our_own_host(http, client):
    http.get(
        f"{API}/views/active.json",
        match=[matchers.query_param_matcher({})],
        json={
            "views": [{"id": 1}, {"id": 2}],
            "next_page": "https://elsewhere.example.com/api/v2/views/active?page=2",
        },
    )
    http.get(
        f"{API}/views/active.json",
        match=[matchers.query_param_matcher({"page": "2"})],
        json={"views": [{"id": 3}], "next_page": None},
    )

    views = client.list_active_views()

    assert [view["id"] for view in views] == [1, 2, 3]
    assert all(call.request.url.startswith(API) for call in http.calls)


def test_view_tickets_follow_cursors_until_has_more_is_false(http, client):
    url = f"{API}/views/7/tickets.json"
    pages = [({}, "c1", True), ({"page[after]": "c1"}, "c2", True)]
    pages.append(({"page[after]": "c2"}, None, False))
    for number, (cursor, after, has_more) in enumerate(pages):
        http.get(
            url,
            match=[matchers.query_param_matcher({"page[size]": "100"} | cursor)],
            json={
                "tickets": [ticket(number)],
                "meta": {"has_more": has_more, "after_cursor": after},
            },
        )

    tickets = list(client.iter_view_tickets(7))

    assert [t.id for t in tickets] == [100, 101, 102]
    assert tickets[0] == TicketSummary(
        100, "open", ("vip", "t0"), "2025-01-01T00:00:00Z"
    )


def test_view_tickets_stop_when_the_cursor_does_not_move(http, client):
    page = {"tickets": [], "meta": {"has_more": True, "after_cursor": "same"}}
    http.get(f"{API}/views/7/tickets.json", json=page)

    with pytest.raises(ZendeskError, match="cursor"):
        list(client.iter_view_tickets(7))

    assert len(http.calls) == 2


def test_view_tickets_refuse_pages_over_100_before_sending(http, client):
    with pytest.raises(ValueError):
        client.iter_view_tickets(7, page_size=101)

    assert len(http.calls) == 0


@pytest.mark.parametrize("value", [742, None])
def test_count_view_returns_the_value_or_none(http, client, value):
    body = {"view_count": {"view_id": 7, "value": value, "fresh": True}}
    http.get(f"{API}/views/7/count.json", json=body)

    assert client.count_view(7) == value


# Retries


def test_429_with_html_waits_for_retry_after(http, client, waits):
    url = f"{API}/tickets/1.json"
    headers = {"Retry-After": "7"}
    http.get(url, status=429, body=HTML_429, content_type="text/html", headers=headers)
    http.get(url, json={"ticket": {"id": 1}})

    assert client.get_ticket(1) == {"id": 1}
    assert waits == [7.0]


def test_429_without_retry_after_falls_back_to_backoff(http, client, waits):
    url = f"{API}/tickets/1.json"
    http.get(url, status=429, body=HTML_429, content_type="text/html")
    http.get(url, json={"ticket": {"id": 1}})

    client.get_ticket(1)

    assert len(waits) == 1
    assert 1.0 <= waits[0] <= 2.0


def test_5xx_retries_with_growing_waits(http, client, waits):
    url = f"{API}/tickets/1.json"
    http.get(url, status=503)
    http.get(url, status=502)
    http.get(url, status=500)
    http.get(url, json={"ticket": {"id": 1}})

    assert client.get_ticket(1) == {"id": 1}

    assert len(waits) == 3
    for attempt, wait in enumerate(waits):
        assert 2**attempt <= wait <= 2 ** (attempt + 1)
    assert waits == sorted(waits)


def test_backoff_is_capped(http, make_client, waits):
    url = f"{API}/tickets/1.json"
    http.get(url, status=500)
    http.get(url, json={"ticket": {"id": 1}})

    make_client(backoff_seconds=500.0).get_ticket(1)

    assert waits == [60.0]


def test_5xx_forever_raises_server_error_after_every_retry(http, client, waits):
    http.get(f"{API}/tickets/1.json", status=500)

    with pytest.raises(ServerError) as caught:
        client.get_ticket(1)

    assert len(http.calls) == 4
    assert len(waits) == 3
    assert caught.value.status_code == 500
    assert caught.value.endpoint == "/api/v2/tickets/1.json"


def test_429s_are_waited_out_within_a_time_budget(http, make_client, waits):
    client = make_client(max_retries=1, rate_limit_wait_seconds=10)
    headers = {"Retry-After": "3"}
    http.get(f"{API}/tickets/1.json", status=429, body=HTML_429, headers=headers)

    with pytest.raises(ServerError) as caught:
        client.get_ticket(1)

    # Three waits of 3 s fit in 10 s, a fourth would not; max_retries does
    # not apply to rate limits.
    assert waits == [3, 3, 3]
    assert len(http.calls) == 4
    assert caught.value.status_code == 429
    assert "still rate limited" in str(caught.value)


def test_a_5xx_with_retry_after_waits_that_long(http, client, waits):
    url = f"{API}/tickets/1.json"
    http.get(url, status=503, headers={"Retry-After": "4"})
    http.get(url, json={"ticket": {"id": 1}})

    assert client.get_ticket(1) == {"id": 1}
    assert waits == [4]


def test_timeout_then_success(http, client, waits):
    url = f"{API}/tickets/1.json"
    http.get(url, body=requests.ReadTimeout("read timed out"))
    http.get(url, json={"ticket": {"id": 1}})

    assert client.get_ticket(1) == {"id": 1}
    assert len(waits) == 1


def test_connection_errors_forever_raise_server_error(http, client):
    error = requests.ConnectionError("refused")
    http.get(f"{API}/tickets/1.json", body=error)

    with pytest.raises(ServerError) as caught:
        client.get_ticket(1)

    assert isinstance(caught.value.__cause__, requests.ConnectionError)
    assert len(http.calls) == 4


@pytest.mark.parametrize(
    "options", [{"api_token": API_TOKEN}, {"oauth_token": OAUTH_TOKEN}]
)
def test_retry_log_names_the_endpoint_but_no_secret(http, make_client, caplog, options):
    url = f"{API}/tickets/update_many.json"
    http.put(url, status=503)
    http.put(url, json={"job_status": {"id": "j1", "status": "queued"}})
    client = make_client(**options)

    with caplog.at_level(logging.WARNING, logger="zendesk"):
        client.update_many_tags([1], additional_tags=["vip"])

    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "PUT /api/v2/tickets/update_many.json" in record.getMessage()
    for secret in (API_TOKEN, OAUTH_TOKEN, "Authorization", "Basic", "Bearer"):
        assert secret not in caplog.text


# Errors that are not retried


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_raise_authentication_error(http, client, status):
    http.get(f"{API}/tickets/1.json", status=status, json={"error": "Couldn't"})

    with pytest.raises(AuthenticationError) as caught:
        client.get_ticket(1)

    assert caught.value.status_code == status
    assert len(http.calls) == 1


def test_404_raises_not_found(http, client):
    http.get(f"{API}/tickets/9.json", status=404, json={"error": "RecordNotFound"})

    with pytest.raises(NotFoundError) as caught:
        client.get_ticket(9)

    assert caught.value.endpoint == "/api/v2/tickets/9.json"


def test_bad_request_carries_zendesk_message(http, client):
    body = {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {"status": [{"description": "Status: closed prevents update"}]},
    }
    http.get(f"{API}/tickets/1.json", status=422, json=body)

    with pytest.raises(BadRequestError) as caught:
        client.get_ticket(1)

    assert caught.value.status_code == 422
    assert "RecordInvalid" in caught.value.message
    assert "Record validation errors" in caught.value.message
    assert "Status: closed prevents update" in str(caught.value)
    assert caught.value.body == body


def test_bad_request_with_html_body_still_raises(http, client):
    http.get(f"{API}/tickets/1.json", status=400, body="<html>nope</html>")

    with pytest.raises(BadRequestError, match="HTTP 400"):
        client.get_ticket(1)


@pytest.mark.parametrize("status", [429, 400])
def test_too_many_jobs_is_left_to_the_caller(http, client, waits, status):
    body = {
        "error": "TooManyJobs",
        "description": "Number of allowed queued jobs exceeded",
        "current_job_ids": ["aa1", "bb2"],
    }
    url = f"{API}/tickets/update_many.json"
    http.put(url, status=status, json=body, headers={"Retry-After": "12"})

    with pytest.raises(TooManyJobsError) as caught:
        client.update_many_tags([1, 2], remove_tags=["old"])

    assert caught.value.current_job_ids == ("aa1", "bb2")
    assert caught.value.retry_after == 12.0
    assert caught.value.status_code == status
    assert len(http.calls) == 1
    assert waits == []


# Bulk updates and jobs


def test_update_many_sends_only_tag_changes(http, client):
    job_status = {"id": "j1", "status": "queued"}
    http.put(
        f"{API}/tickets/update_many.json",
        match=[ids_query("1,2,3")],
        json={"job_status": job_status},
    )

    result = client.update_many_tags(
        [1, 2, 3, 2], additional_tags=["vip"], remove_tags=["old"]
    )

    assert result == job_status
    body = sent_json(http.calls[0])
    assert body == {"ticket": {"additional_tags": ["vip"], "remove_tags": ["old"]}}
    assert "tags" not in body["ticket"]


def test_update_many_with_one_list_omits_the_other(http, client):
    http.put(f"{API}/tickets/update_many.json", json={"job_status": {"id": "j1"}})

    client.update_many_tags([5], remove_tags=["old"])

    assert sent_json(http.calls[0]) == {"ticket": {"remove_tags": ["old"]}}


@pytest.mark.parametrize(
    ("ids", "tags"),
    [
        (range(1, 102), {"additional_tags": ["vip"]}),
        ([], {"additional_tags": ["vip"]}),
        ([1], {}),
        ([1], {"additional_tags": "vip"}),
        ([1], {"additional_tags": ["vip"], "remove_tags": ["vip"]}),
        ("123", {"additional_tags": ["vip"]}),
    ],
    ids=["101-ids", "no-ids", "no-tags", "tag-string", "add-and-remove", "id-string"],
)
def test_update_many_refuses_bad_calls_before_sending(http, client, ids, tags):
    with pytest.raises((ValueError, TypeError)):
        client.update_many_tags(ids, **tags)

    assert len(http.calls) == 0


def test_show_job_statuses(http, client):
    statuses = [{"id": "a", "status": "completed"}, {"id": "b", "status": "working"}]
    http.get(
        f"{API}/job_statuses/show_many.json",
        match=[ids_query("a,b")],
        json={"job_statuses": statuses},
    )

    assert client.show_job_statuses(["a", "b"]) == statuses


def test_show_job_statuses_refuses_over_100_ids(http, client):
    with pytest.raises(ValueError):
        client.show_job_statuses([f"job{n}" for n in range(101)])

    assert len(http.calls) == 0


def test_show_tickets(http, client):
    tickets = [{"id": 1}, {"id": 2}]
    http.get(
        f"{API}/tickets/show_many.json",
        match=[ids_query("1,2")],
        json={"tickets": tickets},
    )

    assert client.show_tickets([1, 2]) == tickets


def test_html_success_body_is_an_error(http, client):
    http.get(f"{API}/tickets/1.json", body="<html>login</html>")

    with pytest.raises(ZendeskError, match="JSON"):
        client.get_ticket(1)


# Rate limits


def test_rate_limit_headers_are_remembered(http, client):
    url = f"{API}/tickets/update_many.json"
    headers = {
        "X-Rate-Limit": "700",
        "X-Rate-Limit-Remaining": "698",
        "Zendesk-RateLimit-Inflight-Jobs": "total=30; remaining=27; resets=40",
    }
    http.put(url, json={"job_status": {"id": "j1"}}, headers=headers)
    # A later answer without the inflight header keeps the last value seen.
    later = {"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "697"}
    http.get(f"{API}/tickets/1.json", json={"ticket": {}}, headers=later)

    assert client.rate_limit_remaining is None
    assert client.inflight_jobs_remaining is None

    client.update_many_tags([1], additional_tags=["vip"])
    client.get_ticket(1)

    assert client.rate_limit_total == 700
    assert client.rate_limit_remaining == 697
    assert client.inflight_jobs_remaining == 27


def test_a_zero_retry_after_still_spends_the_budget(http, make_client, waits):
    client = make_client(rate_limit_wait_seconds=5, backoff_seconds=1.0)
    headers = {"Retry-After": "0"}
    http.get(f"{API}/tickets/1.json", status=429, body=HTML_429, headers=headers)

    with pytest.raises(ServerError, match="still rate limited"):
        client.get_ticket(1)

    assert all(wait >= 1.0 for wait in waits)
    assert len(waits) <= 5


def test_a_url_without_a_scheme_is_refused_when_the_client_is_built():
    with pytest.raises(ConfigurationError, match="must start with https://"):
        ZendeskClient("acme.zendesk.com", email=EMAIL, api_token=API_TOKEN)


def test_a_request_that_cannot_be_sent_is_a_zendesk_error(http, client, waits):
    http.get(f"{API}/tickets/1.json", body=requests.exceptions.InvalidURL("bad"))

    with pytest.raises(ZendeskError, match="could not be sent: InvalidURL"):
        client.get_ticket(1)

    assert waits == []


# Updates beyond tags, macros and comments


def test_update_many_sends_any_changes_in_the_bulk_form(http, client):
    http.put(
        f"{API}/tickets/update_many.json",
        match=[ids_query("4,5")],
        json={"job_status": {"id": "j2"}},
    )
    change = {"status": "solved", "comment": {"body": "Done"}, "macro_ids": [9]}

    assert client.update_many([4, 5], change) == {"id": "j2"}
    assert sent_json(http.calls[0]) == {"ticket": change}


def test_update_many_batch_sends_each_tickets_changes_without_ids(http, client):
    http.put(
        f"{API}/tickets/update_many.json",
        match=[matchers.query_param_matcher({})],
        json={"job_status": {"id": "j3"}},
    )
    tickets = [{"id": 1, "status": "open"}, {"id": 2, "priority": "high"}]

    assert client.update_many_batch(tickets) == {"id": "j3"}
    assert sent_json(http.calls[0]) == {"tickets": tickets}


@pytest.mark.parametrize(
    "call",
    [
        lambda client: client.update_many([1], {"tags": ["a"]}),
        lambda client: client.update_many(range(1, 102), {"status": "open"}),
        lambda client: client.update_many([1], {}),
        lambda client: client.update_many_batch([{"id": 1, "tags": ["a"]}]),
        lambda client: client.update_many_batch([{"status": "open"}]),
        lambda client: client.update_many_batch([{"id": 1}, {"id": 1}]),
        lambda client: client.update_many_batch(
            [{"id": n, "status": "open"} for n in range(1, 102)]
        ),
        lambda client: client.update_many_batch([]),
    ],
    ids=[
        "tags",
        "101-ids",
        "nothing",
        "batch-tags",
        "batch-no-id",
        "batch-repeat",
        "batch-101",
        "batch-empty",
    ],
)
def test_updates_that_could_lose_data_or_break_limits_are_refused(http, client, call):
    with pytest.raises(ValueError):
        call(client)

    assert len(http.calls) == 0


def test_comments_follow_cursors_in_the_order_asked(http, client):
    url = f"{API}/tickets/8/comments.json"
    first = {"page[size]": "100", "sort_order": "desc"}
    http.get(
        url,
        match=[matchers.query_param_matcher(first)],
        json={
            "comments": [{"id": 3}],
            "meta": {"has_more": True, "after_cursor": "c1"},
        },
    )
    http.get(
        url,
        match=[matchers.query_param_matcher(first | {"page[after]": "c1"})],
        json={"comments": [{"id": 2}], "meta": {"has_more": False}},
    )

    comments = list(client.iter_ticket_comments(8, newest_first=True))

    assert [comment["id"] for comment in comments] == [3, 2]


def test_preview_macro_returns_the_result(http, client):
    result = {"ticket": {"id": 8, "status": "solved"}, "comment": {"body": "Hi"}}
    http.get(f"{API}/tickets/8/macros/3/apply.json", json={"result": result})

    assert client.preview_macro(8, 3) == result


def test_an_update_adding_a_comment_is_not_sent_twice_after_a_lost_answer(
    http, client, waits
):
    url = f"{API}/tickets/update_many.json"
    http.put(url, status=502)
    http.put(url, status=504)
    change = {"status": "solved", "comment": {"body": "Done.", "public": True}}

    with pytest.raises(ServerError, match="not sent again"):
        client.update_many([1, 2], change)
    with pytest.raises(ServerError, match="not sent again"):
        client.update_many_batch([{"id": 1, **change}, {"id": 2, "status": "open"}])

    assert len(http.calls) == 2
    assert waits == []


def test_an_update_adding_a_comment_still_waits_out_a_429(http, client, waits):
    url = f"{API}/tickets/update_many.json"
    http.put(url, status=429, headers={"Retry-After": "3"})
    http.put(url, json={"job_status": {"id": "abc"}})

    job_status = client.update_many([1], {"comment": {"body": "Hi", "public": True}})

    assert job_status == {"id": "abc"}
    assert waits == [3.0]


def test_an_update_without_a_comment_is_retried_after_a_lost_answer(
    http, client, waits
):
    url = f"{API}/tickets/update_many.json"
    http.put(url, status=502)
    http.put(url, json={"job_status": {"id": "abc"}})

    assert client.update_many([1], {"status": "solved"}) == {"id": "abc"}
    assert len(waits) == 1


def test_an_update_adding_a_comment_is_retried_when_no_connection_was_made(
    http, client, waits
):
    url = f"{API}/tickets/update_many.json"
    http.put(url, body=requests.ConnectTimeout("connect timed out"))
    http.put(url, json={"job_status": {"id": "abc"}})

    job_status = client.update_many([1], {"comment": {"body": "Hi", "public": True}})

    assert job_status == {"id": "abc"}
    assert len(waits) == 1


def test_an_update_adding_a_comment_is_not_retried_after_a_read_timeout(
    http, client, waits
):
    url = f"{API}/tickets/update_many.json"
    http.put(url, body=requests.ReadTimeout("read timed out"))

    with pytest.raises(ServerError, match="not sent again: ReadTimeout"):
        client.update_many([1], {"comment": {"body": "Hi", "public": True}})
    assert waits == []


def test_a_refused_connection_counts_as_never_sent(waits):
    """Port 9 (discard) has no listener here: the connection is refused."""
    client = ZendeskClient(
        "http://127.0.0.1:9",
        email=EMAIL,
        api_token=API_TOKEN,
        max_retries=2,
        backoff_seconds=0.01,
        sleep=waits.append,
    )

    with pytest.raises(ServerError, match="still failing after 3 attempts"):
        client.update_many([1], {"comment": {"body": "Hi", "public": True}})
    assert len(waits) == 2


@pytest.mark.parametrize(
    ("query", "sent"),
    [
        ("tags:vip", "type:ticket tags:vip"),
        ("type:ticket status<solved", "type:ticket status<solved"),
        ("billing -type:user", "billing -type:user"),
    ],
)
def test_a_search_count_counts_tickets_only(http, client, query, sent):
    http.get(
        f"{API}/search/count.json",
        match=[matchers.query_param_matcher({"query": sent})],
        json={"count": 3},
    )

    assert client.count_search(query) == 3
