"""The overview links every page of the navigation with a line about it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from orchestrator.api.dashboard.templating import NAV
from tests.orchestrator.api.conftest import new_key
from tests.orchestrator.api.dashboard.support import log_in


def test_the_overview_has_a_card_for_every_page(client: TestClient) -> None:
    log_in(client, new_key(client, "admin"))
    html = client.get("/admin").text
    cards = dict(re.findall(r'<a class="card" href="([^"]+)"><h2>[^<]+</h2><p>([^<]+)</p>', html))
    assert set(cards) == {href for href, _ in NAV[1:]}
    assert cards["/admin/experts"] == "3 enabled of 3"
    assert cards["/admin/profiles"] == "no active profile set"
    for href, _ in NAV[1:]:
        assert client.get(href).status_code == 200, href
