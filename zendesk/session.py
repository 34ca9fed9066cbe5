"""The HTTP session a client uses: credentials and a connection pool."""

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth

from zendesk.errors import ConfigurationError

POOL_SIZE = 10


class BearerAuth(AuthBase):
    """An OAuth access token in the `Authorization` header.

    An auth object rather than a session header: requests would otherwise let
    a ~/.netrc entry replace the header with Basic credentials.
    """

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


def auth_for(email: str, api_token: str, oauth_token: str) -> tuple[str, AuthBase]:
    """The auth to use and its kind ("oauth" or "api_token") for logs."""
    # OAuth wins: Zendesk is switching API tokens off.
    if oauth_token:
        return "oauth", BearerAuth(oauth_token)
    if api_token and email:
        return "api_token", HTTPBasicAuth(f"{email}/token", api_token)

    if api_token:
        raise ConfigurationError("A Zendesk API token needs the agent's email")
    raise ConfigurationError("No Zendesk credentials: set an OAuth or API token")


def build_session(auth: AuthBase) -> requests.Session:
    session = requests.Session()
    session.auth = auth
    session.headers["Accept"] = "application/json"

    # urllib3 must not retry on its own: the client counts, waits for and
    # logs every retry itself.
    adapter = HTTPAdapter(pool_maxsize=POOL_SIZE, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
