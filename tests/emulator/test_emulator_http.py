"""The RetailCRM API surface over HTTP (in-process ASGI): shapes, filters, pagination, auth."""

from __future__ import annotations

import pytest

from emulator_helpers import ClientFactory, KEY
from retailcrm_emulator import Account
from retailcrm_emulator.query import parse_php_query


pytestmark = pytest.mark.anyio


def test_php_bracket_query_parsing() -> None:
    parsed = parse_php_query("a[b][]=1&a[b][]=2&a[c][d]=x&limit=20&filter[customFields][nps][min]=5")
    assert parsed == {"a": {"b": ["1", "2"], "c": {"d": "x"}}, "limit": "20",
                      "filter": {"customFields": {"nps": {"min": "5"}}}}


@pytest.mark.parametrize(("start", "end"), [("2024-11-01", "2024-11-30"),
                                            ("2024-11-01 00:00:00", "2024-11-30 23:59:59")])
async def test_november_totals_through_the_api(full_account: Account, client_for: ClientFactory,
                                               start: str, end: str) -> None:
    client = client_for(full_account)
    response = await client.get("/api/v5/orders", params={"filter[createdAtFrom]": start, "filter[createdAtTo]": end})
    assert response.json()["pagination"]["totalCount"] == 1163
    response = await client.get("/api/v5/orders", params={
        "filter[createdAtFrom]": start.replace("2024", "2025"), "filter[createdAtTo]": end.replace("2024", "2025")})
    assert response.json()["pagination"]["totalCount"] == 1447


async def test_boundary_second_is_inclusive_and_exact(full_account: Account, client_for: ClientFactory) -> None:
    client = client_for(full_account)
    response = await client.get("/api/v5/orders", params={
        "filter[createdAtFrom]": "2024-11-30 23:59:59", "filter[createdAtTo]": "2024-12-01 00:00:00", "limit": 100})
    created = {o["createdAt"] for o in response.json()["orders"]}
    assert created == {"2024-11-30 23:59:59", "2024-12-01 00:00:00"}


@pytest.mark.parametrize("limit", ["10", "25", "101", "abc"])
async def test_limit_must_be_20_50_or_100(full_account: Account, client_for: ClientFactory, limit: str) -> None:
    response = await client_for(full_account).get("/api/v5/orders", params={"limit": limit})
    assert response.status_code == 400
    assert response.json() == {"success": False, "errorMsg": "Errors in the pagination parameters",
                               "errors": response.json()["errors"]}


async def test_pagination_and_page_past_the_end(full_account: Account, client_for: ClientFactory) -> None:
    client = client_for(full_account)
    params = {"filter[createdAtFrom]": "2024-11-01", "filter[createdAtTo]": "2024-11-30", "limit": 100}
    first = (await client.get("/api/v5/orders", params=params)).json()
    assert first["pagination"] == {"limit": 100, "totalCount": 1163, "currentPage": 1, "totalPageCount": 12}
    assert len(first["orders"]) == 100
    ids = [o["id"] for o in first["orders"]]
    assert ids == sorted(ids, reverse=True)
    last = (await client.get("/api/v5/orders", params={**params, "page": 12})).json()
    assert len(last["orders"]) == 63
    past = (await client.get("/api/v5/orders", params={**params, "page": 13})).json()
    assert past["success"] is True and past["orders"] == []
    assert (await client.get("/api/v5/orders", params={"page": 0})).status_code == 400


async def test_filters(full_account: Account, client_for: ClientFactory) -> None:
    client = client_for(full_account)

    async def orders(**params: object) -> tuple[int, list[dict]]:
        body = (await client.get("/api/v5/orders", params={"limit": 100, **params})).json()
        return body["pagination"]["totalCount"], body["orders"]

    total, page = await orders(**{"filter[sites][]": "second-store"})
    assert 0 < total < len(full_account.orders) and {o["site"] for o in page} == {"second-store"}
    _, page = await orders(**{"filter[extendedStatus][]": ["cancel-group"]})
    assert {o["status"] for o in page} <= {"no-call", "no-product", "already-buyed", "delyvery-did-not-suit",
                                            "prices-did-not-suit-us", "cancel-other", "return"}
    _, page = await orders(**{"filter[extendedStatus][]": ["new", "complete"]})
    assert {o["status"] for o in page} <= {"new", "complete"}
    total, page = await orders(**{"filter[ids][]": ["1", "2", "3"]})
    assert sorted(o["id"] for o in page) == [1, 2, 3]
    number = page[0]["number"]
    _, page = await orders(**{"filter[numbers][]": number})
    assert {o["number"] for o in page} == {number}
    _, page = await orders(**{"filter[orderMethods][]": "phone", "filter[orderTypes][]": "eshop-legal"})
    assert page and {(o["orderMethod"], o["orderType"]) for o in page} == {("phone", "eshop-legal")}
    _, page = await orders(**{"filter[customFields][registration_method]": "marketplace"})
    assert page and {o["customFields"]["registration_method"] for o in page} == {"marketplace"}
    _, page = await orders(**{"filter[statusUpdatedAtFrom]": "2025-03-01", "filter[statusUpdatedAtTo]": "2025-03-01"})
    assert page and {o["statusUpdatedAt"][:10] for o in page} == {"2025-03-01"}
    bad = await client.get("/api/v5/orders", params={"filter[createdAtFrom]": "yesterday"})
    assert bad.status_code == 400


async def test_history_sinceid_walk_and_sinceid_with_page_is_rejected(full_account: Account,
                                                                      client_for: ClientFactory) -> None:
    client = client_for(full_account)
    rejected = await client.get("/api/v5/orders/history", params={"filter[sinceId]": 10, "page": 1})
    assert rejected.status_code == 400 and rejected.json()["success"] is False
    body = (await client.get("/api/v5/orders/history", params={"filter[sinceId]": 1000, "limit": 100})).json()
    ids = [r["id"] for r in body["history"]]
    assert ids == list(range(1001, 1101))
    assert body["pagination"]["totalCount"] == len(full_account.order_history) - 1000
    assert len(body["generatedAt"]) == 19
    change = next(r for r in body["history"] if r.get("field") == "status")
    assert set(change["order"]) <= {"id", "externalId", "site", "status", "managerId"}
    assert set(change["oldValue"]) == {"code"}
    created = next(r for r in body["history"] if r.get("created"))
    assert created["order"]["status"] == "new" and isinstance(created["order"].get("payments", []), list)
    dated = (await client.get("/api/v5/orders/history", params={
        "filter[startDate]": "2025-03-01 00:00:00", "filter[endDate]": "2025-03-01 23:59:59", "limit": 100})).json()
    assert dated["history"] and all(r["createdAt"].startswith("2025-03-01") for r in dated["history"])
    one = (await client.get("/api/v5/orders/history", params={"filter[orderId]": 5, "limit": 100})).json()
    assert one["history"][0].get("created") and {r["order"]["id"] for r in one["history"]} == {5}


async def test_customers_and_their_history(full_account: Account, client_for: ClientFactory) -> None:
    client = client_for(full_account)
    body = (await client.get("/api/v5/customers", params={"filter[sites][]": "second-store",
                                                          "filter[dateFrom]": "2025-01-01",
                                                          "filter[dateTo]": "2025-01-31"})).json()
    assert body["customers"] and all(c["site"] == "second-store" and c["createdAt"].startswith("2025-01")
                                     for c in body["customers"])
    history = (await client.get("/api/v5/customers/history", params={"limit": 100})).json()
    assert history["history"][0]["created"] is True and "customer" in history["history"][0]
    assert (await client.get("/api/v5/customers/history", params={"filter[sinceId]": 1, "page": 2})).status_code == 400


async def test_settings_and_reference(full_account: Account, client_for: ClientFactory) -> None:
    client = client_for(full_account)
    settings = (await client.get("/api/v5/settings")).json()["settings"]
    assert settings["timezone"]["value"] == "Europe/Moscow"
    assert settings["default_currency"]["value"] == "RUB"
    statuses = (await client.get("/api/v5/reference/statuses")).json()["statuses"]
    assert statuses["complete"]["group"] == "complete" and statuses["no-call"]["group"] == "cancel"
    groups = (await client.get("/api/v5/reference/status-groups")).json()["statusGroups"]
    assert set(groups) == {"new", "approval", "assembling", "delivery", "complete", "cancel"}
    assert "cancel-other" in groups["cancel"]["statuses"]
    for path, key, code in [("order-types", "orderTypes", "eshop-legal"),
                            ("order-methods", "orderMethods", "one-click"),
                            ("sites", "sites", "main-store")]:
        payload = (await client.get(f"/api/v5/reference/{path}")).json()[key]
        assert payload[code]["code"] == code and payload[code]["name"]
    fields = (await client.get("/api/v5/custom-fields", params={"filter[entity]": "order"})).json()["customFields"]
    assert isinstance(fields, list) and {f["code"] for f in fields} >= {"adress_client", "registration_method"}
    assert {f["entity"] for f in fields} == {"order"}
    dictionaries = (await client.get("/api/v5/custom-fields/dictionaries")).json()["customDictionaries"]
    labels = {d["code"]: {e["code"]: e["name"] for e in d["elements"]} for d in dictionaries}
    assert labels["registration_method"]["marketplace"] == "Через маркетплейс"
    credentials = (await client.get("/api/credentials")).json()
    assert credentials["sitesAvailable"] == ["main-store", "second-store"] and "order_read" in credentials["scopes"]
    assert "5.0" in (await client.get("/api/api-versions")).json()["versions"]


async def test_auth_by_header_or_query_and_403s(full_account: Account, client_for: ClientFactory) -> None:
    anonymous = client_for(full_account, headers={})
    assert (await anonymous.get("/api/v5/settings", params={"apiKey": KEY})).status_code == 200
    missing = await anonymous.get("/api/v5/settings")
    assert missing.status_code == 403 and missing.json()["errorMsg"] == '"apiKey" is missing.'
    wrong = await anonymous.get("/api/v5/settings", params={"apiKey": "nope"})
    assert wrong.status_code == 403 and wrong.json() == {"success": False, "errorMsg": 'Wrong "apiKey" value.'}
    wrong_header = await client_for(full_account, headers={"X-API-KEY": "nope"}).get("/api/v5/orders")
    assert wrong_header.status_code == 403
    assert (await anonymous.get("/_emulator/truth")).status_code == 403
    unknown = await client_for(full_account).get("/api/v5/unknown")
    assert unknown.status_code == 404 and unknown.json()["success"] is False
