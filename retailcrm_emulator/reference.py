"""Payloads of the account settings and reference endpoints (static; objects keyed by code)."""

from __future__ import annotations

from typing import Any

from . import catalog

_UPDATED_AT = "2023-06-01 10:00:00"
API_VERSIONS = ["3.0", "4.0", "5.0"]
SCOPES = [
    "order_read", "customer_read", "reference_read", "store_read", "user_read", "custom_fields_read",
    "analytics_read", "settings_read",
]


def settings() -> dict[str, Any]:
    """GET /api/v5/settings."""
    return {
        "default_currency": {"value": catalog.CURRENCY, "updated_at": _UPDATED_AT},
        "system_language": {"value": "RU", "updated_at": _UPDATED_AT},
        "timezone": {"value": catalog.TIMEZONE, "updated_at": _UPDATED_AT},
        "mg": {"order_creation": {"default_site": {"value": catalog.SITES[0][0]}}},
        "work_times": [
            {"day_type": day, "start_time": "09:00", "end_time": "21:00", "lunch_start_time": "13:00",
             "lunch_end_time": "14:00"}
            for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
        ],
        "non_working_days": [{"start_date": "01.01", "end_date": "01.08"}],
    }


def credentials() -> dict[str, Any]:
    """GET /api/credentials (unversioned)."""
    return {"scopes": SCOPES, "siteAccess": "access_full", "sitesAvailable": [s[0] for s in catalog.SITES]}


def statuses() -> dict[str, Any]:
    return {code: {"name": name, "code": code, "active": active, "ordering": (i + 1) * 10, "group": group}
            for i, (code, name, group, active) in enumerate(catalog.STATUSES)}


def status_groups() -> dict[str, Any]:
    return {
        code: {
            "name": name, "code": code, "active": True, "ordering": (i + 1) * 10, "process": code != "complete",
            "statuses": [s[0] for s in catalog.STATUSES if s[2] == code],
        }
        for i, (code, name) in enumerate(catalog.STATUS_GROUPS)
    }


def order_types() -> dict[str, Any]:
    return {code: {"name": name, "code": code, "active": True, "defaultForCrm": i == 0, "defaultForApi": i == 0,
                   "ordering": (i + 1) * 10}
            for i, (code, name) in enumerate(catalog.ORDER_TYPES)}


def order_methods() -> dict[str, Any]:
    return {code: {"name": name, "code": code, "active": True, "defaultForCrm": code == "phone",
                   "defaultForApi": code == "shopping-cart"}
            for code, name, _ in catalog.ORDER_METHODS}


def sites() -> dict[str, Any]:
    return {code: {"name": name, "code": code, "url": url, "defaultForCrm": i == 0, "countryIso": "RU",
                   "currency": catalog.CURRENCY, "contragentType": "individual"}
            for i, (code, name, url) in enumerate(catalog.SITES)}


def delivery_types() -> dict[str, Any]:
    return {code: {"name": name, "code": code, "active": True, "defaultCost": cost / 100}
            for code, name, cost, _ in catalog.DELIVERIES}


def payment_types() -> dict[str, Any]:
    return {code: {"name": name, "code": code, "active": True} for code, name in catalog.PAYMENT_TYPES}


def payment_statuses() -> dict[str, Any]:
    return {code: {"name": name, "code": code, "active": True, "paymentComplete": code == "paid"}
            for code, name in catalog.PAYMENT_STATUSES}


def users() -> list[dict[str, Any]]:
    """GET /api/v5/users: the managers (id, names, manager flag)."""
    return [{"id": uid, "firstName": first, "lastName": last, "active": True, "isManager": True,
             "isAdmin": False, "status": "free", "online": False}
            for uid, first, last, _ in catalog.MANAGERS]


def custom_fields(entity: str | None) -> list[dict[str, Any]]:
    """GET /api/v5/custom-fields (all of them, or of one entity)."""
    out = []
    for i, (field_entity, code, name, field_type, dictionary) in enumerate(catalog.CUSTOM_FIELDS):
        if entity and field_entity != entity:
            continue
        field: dict[str, Any] = {
            "name": name, "code": code, "required": False, "inFilter": True, "inList": True,
            "inGroupActions": False, "type": field_type, "entity": field_entity, "ordering": (i + 1) * 10,
            "displayArea": "customer" if field_entity == "order" else "main", "viewMode": "editable",
        }
        if dictionary:
            field["dictionary"] = dictionary
        out.append(field)
    return out


def dictionaries() -> list[dict[str, Any]]:
    """GET /api/v5/custom-fields/dictionaries."""
    return [{"name": name, "code": code,
             "elements": [{"name": label, "code": element, "ordering": (i + 1) * 10}
                          for i, (element, label) in enumerate(elements)]}
            for code, name, elements in catalog.DICTIONARIES]
