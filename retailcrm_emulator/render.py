"""Rows and history records rendered as RetailCRM API v5 payloads (built on demand).

Shapes follow the real API: empty fields are omitted, money is a JSON number with kopecks,
date-times are naive account-local "Y-m-d H:i:s", empty `customFields` is `[]`, `payments` is an
object keyed by id in /orders and an array inside history records.
"""

from __future__ import annotations

from typing import Any

from . import catalog, history
from .clock import fmt, fmt_date
from .history import HistoryLog, Meta
from .rows import (FIRST_NAMES, NONE, CustomerRow, OrderRow, Strings, address_text, at_creation, email,
                   interests_codes, last_name, phone, unpack_item)


def money(kopecks: int) -> float | int:
    """A JSON number of roubles (an int when whole, as PHP's json_encode gives it)."""
    return kopecks // 100 if kopecks % 100 == 0 else kopecks / 100


def order_totals(row: OrderRow) -> tuple[int, int]:
    """(goods sum, total with delivery) of an order, in kopecks."""
    summ = 0
    for item in row.items:
        product, quantity = unpack_item(item)
        summ += catalog.PRODUCTS[product][2] * quantity
    return summ, summ + catalog.DELIVERIES[row.delivery][2]


def _purchase_sum(row: OrderRow) -> int:
    total = 0
    for item in row.items:
        product, quantity = unpack_item(item)
        total += catalog.PRODUCTS[product][3] * quantity
    return total


def _order_custom_fields(row: OrderRow, strings: Strings) -> dict[str, Any] | list[Any]:
    fields: dict[str, Any] = {}
    address = address_text(row.addr, strings)
    if address:
        fields["adress_client"] = address
    if row.reg != NONE:
        fields["registration_method"] = catalog.REGISTRATION_METHODS[row.reg]
    if row.interests:
        fields["interests"] = interests_codes(row.interests)
    if row.gift != NONE:
        fields["gift_wrap"] = bool(row.gift)
    return fields or []


def _customer_custom_fields(row: CustomerRow) -> dict[str, Any] | list[Any]:
    fields: dict[str, Any] = {}
    if row.reg != NONE:
        fields["registration_method"] = catalog.REGISTRATION_METHODS[row.reg]
    if row.interests:
        fields["interests"] = interests_codes(row.interests)
    if row.newsletter != NONE:
        fields["newsletter"] = bool(row.newsletter)
    if row.birth != NONE:
        fields["birth_date"] = fmt_date(row.birth)
    return fields or []


def customer_dict(row: CustomerRow, strings: Strings) -> dict[str, Any]:
    """A customer as /customers (and an order's `customer`) gives it."""
    female = row.first >= len(catalog.MALE_FIRST)
    out: dict[str, Any] = {
        "type": "customer",
        "id": row.id,
        "isContact": False,
        "createdAt": fmt(row.created),
        "vip": False,
        "bad": False,
        "site": catalog.SITES[row.site][0],
        "contragent": {"contragentType": "individual"},
        "personalDiscount": 0,
        "firstName": FIRST_NAMES[row.first],
        "lastName": last_name(row),
        "sex": "female" if female else "male",
        "email": email(row),
        "phones": [{"number": phone(row.id)}],
        "customFields": _customer_custom_fields(row),
    }
    if row.manager:
        out["managerId"] = row.manager
    if row.city != NONE:
        out["address"] = {"city": strings.values[row.city]}
    return out


def _items(row: OrderRow, created: str) -> list[dict[str, Any]]:
    out = []
    for position, item in enumerate(row.items):
        product, quantity = unpack_item(item)
        name, article, price, purchase = catalog.PRODUCTS[product]
        out.append({
            "id": row.id * 8 + position,
            "initialPrice": money(price),
            "discountTotal": 0,
            "vatRate": "none",
            "createdAt": created,
            "quantity": quantity,
            "status": "new",
            "purchasePrice": money(purchase),
            "prices": [{"price": money(price), "quantity": quantity}],
            "offer": {"id": 1000 + product, "externalId": article, "name": name, "article": article},
        })
    return out


def _payments(row: OrderRow, total: int, created: str, as_list: bool) -> dict[str, Any] | list[Any]:
    payment_type, paid = divmod(row.pay, 2)
    payment: dict[str, Any] = {
        "id": row.id * 2 + 1,
        "status": catalog.PAYMENT_STATUSES[paid][0],
        "type": catalog.PAYMENT_TYPES[payment_type][0],
        "amount": money(total),
    }
    if paid:
        payment["paidAt"] = created
    return [payment] if as_list else {str(payment["id"]): payment}


def order_dict(row: OrderRow, customer: CustomerRow, strings: Strings, *,
               payments_as_list: bool = False) -> dict[str, Any]:
    """An order as /orders gives it (personal data included, as on the real API)."""
    summ, total = order_totals(row)
    created = fmt(row.created)
    paid = row.pay != NONE and row.pay % 2 == 1
    first, last = FIRST_NAMES[customer.first], last_name(customer)
    out: dict[str, Any] = {"slug": row.id, "id": row.id, "number": row.number}
    if row.ext:
        out["externalId"] = row.ext
    out.update({
        "orderType": catalog.ORDER_TYPES[row.otype][0],
        "orderMethod": catalog.ORDER_METHODS[row.method][0],
        "privilegeType": "none",
        "countryIso": "RU",
        "createdAt": created,
        "statusUpdatedAt": created if row.status_upd == row.created else fmt(row.status_upd),
        "summ": money(summ),
        "totalSumm": money(total),
        "prepaySum": money(total if paid else 0),
        "purchaseSumm": money(_purchase_sum(row)),
        "lastName": last,
        "firstName": first,
        "phone": phone(customer.id),
        "email": email(customer),
        "call": False,
        "expired": False,
        "customer": customer_dict(customer, strings),
        "contragent": ({"contragentType": "legal-entity", "legalName": f'ООО "{last}"'} if row.otype
                       else {"contragentType": "individual"}),
    })
    if row.manager:
        out["managerId"] = row.manager
    if row.source != NONE:
        source, medium, campaign, _ = catalog.UTM_SOURCES[row.source]
        out["source"] = {k: v for k, v in (("source", source), ("medium", medium), ("campaign", campaign)) if v}
    code, _, cost, _ = catalog.DELIVERIES[row.delivery]
    delivery: dict[str, Any] = {"code": code, "cost": money(cost), "netCost": 0}
    address: dict[str, str] = {}
    if row.city != NONE:
        address["city"] = strings.values[row.city]
    text = address_text(row.addr, strings)
    if text:
        address["text"] = text
    if address:
        delivery["address"] = address
    out["delivery"] = delivery
    out["site"] = catalog.SITES[row.site][0]
    out["status"] = catalog.STATUSES[row.status][0]
    out["items"] = _items(row, created)
    if row.pay != NONE:
        out["payments"] = _payments(row, total, created, payments_as_list)
    out["fromApi"] = row.method in (0, 2, 3)
    out["shipped"] = False
    out["currency"] = catalog.CURRENCY
    out["customFields"] = _order_custom_fields(row, strings)
    return out


_CODE_FIELDS = {history.STATUS: catalog.STATUSES, history.SITE: catalog.SITES,
                history.ORDER_METHOD: catalog.ORDER_METHODS, history.ORDER_TYPE: catalog.ORDER_TYPES}
_ORDER_FIELD_NAMES = {
    history.STATUS: "status", history.MANAGER: "manager", history.SITE: "site",
    history.CREATED_AT: "created_at", history.CITY: "delivery_address.city",
    history.ADDRESS: "custom_adress_client", history.ORDER_METHOD: "order_method",
    history.ORDER_TYPE: "order_type", history.CUSTOM_REGISTRATION: "custom_registration_method",
    history.CUSTOM_INTERESTS: "custom_interests", history.CUSTOM_GIFT: "custom_gift_wrap",
    history.CUSTOMER: "customer",
}
_CUSTOMER_FIELD_NAMES = {
    history.MANAGER: "manager", history.CITY: "address.city",
    history.CUSTOM_REGISTRATION: "custom_registration_method",
    history.CUSTOM_INTERESTS: "custom_interests", history.CUSTOM_NEWSLETTER: "custom_newsletter",
}


def _value(kind: int, code: int, strings: Strings) -> Any:
    """The history oldValue/newValue of a coded value (None when empty)."""
    if kind in _CODE_FIELDS:
        return {"code": _CODE_FIELDS[kind][code][0]}
    if kind in (history.MANAGER, history.CUSTOMER):
        return {"id": code} if code else None
    if kind == history.CREATED_AT:
        return fmt(code)
    if kind == history.CITY:
        return None if code == NONE else strings.values[code]
    if kind == history.ADDRESS:
        return address_text(code, strings)
    if kind == history.CUSTOM_REGISTRATION:
        return None if code == NONE else catalog.REGISTRATION_METHODS[code]
    if kind == history.CUSTOM_INTERESTS:
        return interests_codes(code) or None
    return None if code == NONE else bool(code)


def _record_head(log: HistoryLog, index: int, meta: Meta) -> dict[str, Any]:
    out: dict[str, Any] = {"id": index + 1, "createdAt": fmt(log.shown_ts(index))}
    kind = log.kind[index]
    if kind == history.CREATED:
        out["created"] = True
    elif kind == history.DELETED:
        out["deleted"] = True
    out["source"] = history.SOURCES[meta.source]
    if meta.user:
        out["user"] = {"id": meta.user}
    if meta.api_key:
        out["apiKey"] = {"current": meta.api_key == history.CURRENT_KEY}
    return out


def _change(out: dict[str, Any], kind: int, old: int, new: int, names: dict[int, str],
            strings: Strings) -> None:
    out["field"] = names[kind]
    old_value, new_value = _value(kind, old, strings), _value(kind, new, strings)
    if old_value is not None:
        out["oldValue"] = old_value
    if new_value is not None:
        out["newValue"] = new_value


def order_record(log: HistoryLog, index: int, orders: dict[int, OrderRow],
                 customers: dict[int, CustomerRow], strings: Strings) -> dict[str, Any]:
    """One /orders/history record."""
    meta = Meta.unpack(log.meta[index])
    out = _record_head(log, index, meta)
    row = orders[log.entity[index]]
    kind = log.kind[index]
    if kind == history.CREATED:
        initial = at_creation(row, log.ts[index])
        assert isinstance(initial, OrderRow)
        out["order"] = order_dict(initial, customers[initial.customer], strings, payments_as_list=True)
        return out
    if kind == history.COMBINED:
        target = orders[log.new[index]]
        out["combinedTo"] = _minimal_order(target, target.site, target.status, target.manager)
    elif kind != history.DELETED:
        _change(out, kind, log.old[index], log.new[index], _ORDER_FIELD_NAMES, strings)
    out["order"] = _minimal_order(row, meta.site, meta.status, meta.manager)
    return out


def _minimal_order(row: OrderRow, site: int, status: int, manager: int) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.id}
    if row.ext:
        out["externalId"] = row.ext
    out["site"] = catalog.SITES[site][0]
    out["status"] = catalog.STATUSES[status][0]
    if manager:
        out["managerId"] = manager
    return out


def customer_record(log: HistoryLog, index: int, customers: dict[int, CustomerRow],
                    strings: Strings) -> dict[str, Any]:
    """One /customers/history record."""
    meta = Meta.unpack(log.meta[index])
    out = _record_head(log, index, meta)
    row = customers[log.entity[index]]
    kind = log.kind[index]
    if kind == history.CREATED:
        initial = at_creation(row, log.ts[index])
        assert isinstance(initial, CustomerRow)
        out["customer"] = customer_dict(initial, strings)
        return out
    if kind == history.COMBINED:
        out["combinedTo"] = {"id": log.new[index], "site": catalog.SITES[customers[log.new[index]].site][0]}
    elif kind != history.DELETED:
        _change(out, kind, log.old[index], log.new[index], _CUSTOMER_FIELD_NAMES, strings)
    out["customer"] = {"id": row.id, "site": catalog.SITES[meta.site][0]}
    return out
