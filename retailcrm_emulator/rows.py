"""Compact per-entity storage: slotted rows of small ints, decoded only when rendered.

Codes used in rows and in history records alike:
- status, site, order type, order method, delivery: index into the catalog tuples;
- manager: manager id, 0 = none;
- city: index into the account's string table, -1 = none;
- address: >= 0 a generated street address, -1 = none, <= -2 a string-table entry (-2 - index);
- custom fields: dictionary index or -1, interests as a bit mask, booleans as -1/0/1.
"""

from __future__ import annotations

from . import catalog, history

FIRST_NAMES = catalog.MALE_FIRST + catalog.FEMALE_FIRST
NONE = -1


class Strings:
    """An append-only string table (interning), so rows and history store small ints."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._codes: dict[str, int] = {}

    def code(self, value: str) -> int:
        """The code of `value`, adding it when new."""
        found = self._codes.get(value)
        if found is None:
            found = self._codes[value] = len(self.values)
            self.values.append(value)
        return found


class OrderRow:
    """One order. `orig` is a flat (kind, value at creation, ...) tuple of the fields edited since.

    `gone` is 0 for a live order, 1 once deleted, 2 once merged into another.
    """

    __slots__ = ("id", "number", "ext", "site", "status", "otype", "method", "created", "status_upd",
                 "manager", "customer", "source", "city", "addr", "delivery", "items", "pay", "reg",
                 "interests", "gift", "orig", "gone")

    def __init__(self, *, number: str, ext: str | None, site: int, otype: int, method: int,
                 created: int, manager: int, customer: int, source: int, city: int, addr: int,
                 delivery: int, items: tuple[int, ...], pay: int, reg: int, interests: int,
                 gift: int, status: int = 0, order_id: int = 0) -> None:
        self.id = order_id
        self.number = number
        self.ext = ext
        self.site = site
        self.status = status
        self.otype = otype
        self.method = method
        self.created = created
        self.status_upd = created
        self.manager = manager
        self.customer = customer
        self.source = source
        self.city = city
        self.addr = addr
        self.delivery = delivery
        self.items = items
        self.pay = pay
        self.reg = reg
        self.interests = interests
        self.gift = gift
        self.orig: tuple[int, ...] | None = None
        self.gone = 0


class CustomerRow:
    """One customer (personal data is derived from the id and the name indices)."""

    __slots__ = ("id", "site", "created", "first", "last", "manager", "city", "reg", "interests",
                 "newsletter", "birth", "orig", "gone")

    def __init__(self, *, site: int, created: int, first: int, last: int, manager: int, city: int,
                 reg: int, interests: int, newsletter: int, birth: int, customer_id: int = 0) -> None:
        self.id = customer_id
        self.site = site
        self.created = created
        self.first = first
        self.last = last
        self.manager = manager
        self.city = city
        self.reg = reg
        self.interests = interests
        self.newsletter = newsletter
        self.birth = birth
        self.orig: tuple[int, ...] | None = None
        self.gone = 0


def pack_item(product: int, quantity: int) -> int:
    """An order line as one int."""
    return product * 16 + quantity


def unpack_item(item: int) -> tuple[int, int]:
    """(product index, quantity) of a packed order line."""
    return divmod(item, 16)


def address_code(street: int, house: int, flat: int) -> int:
    """A generated street address as one int."""
    return (street * 200 + house) * 1000 + flat


def address_text(code: int, strings: Strings) -> str | None:
    """The address of a code, None for none."""
    if code == NONE:
        return None
    if code <= -2:
        return strings.values[-2 - code]
    rest, flat = divmod(code, 1000)
    street, house = divmod(rest, 200)
    text = f"{catalog.STREETS[street]}, д. {house}"
    return f"{text}, кв. {flat}" if flat else text


def interests_codes(mask: int) -> list[str]:
    """Multiselect codes of an interests bit mask."""
    return [code for bit, code in enumerate(catalog.INTERESTS) if mask >> bit & 1]


def interests_mask(codes: list[str]) -> int:
    """Bit mask of multiselect codes (ValueError on an unknown code)."""
    mask = 0
    for code in codes:
        mask |= 1 << catalog.INTERESTS.index(code)
    return mask


def last_name(row: CustomerRow) -> str:
    """The customer's last name in the right gender form."""
    base = catalog.LAST_NAMES[row.last][0]
    return base + "а" if row.first >= len(catalog.MALE_FIRST) else base


def phone(customer_id: int) -> str:
    """A deterministic Russian mobile number for a customer."""
    return f"+79{(customer_id * 7_919_333 + 12_345_677) % 1_000_000_000:09d}"


def email(row: CustomerRow) -> str:
    """A deterministic e-mail address for a customer."""
    latin = catalog.LAST_NAMES[row.last][1]
    domain = catalog.EMAIL_DOMAINS[row.id % len(catalog.EMAIL_DOMAINS)]
    return f"{latin}.{row.id}@{domain}"


# History field kind -> row attribute, for the fields that mutations may change.
ORDER_ATTRS = {
    history.STATUS: "status", history.MANAGER: "manager", history.SITE: "site",
    history.CREATED_AT: "created", history.CITY: "city", history.ADDRESS: "addr",
    history.ORDER_METHOD: "method", history.ORDER_TYPE: "otype",
    history.CUSTOM_REGISTRATION: "reg", history.CUSTOM_INTERESTS: "interests",
    history.CUSTOM_GIFT: "gift", history.CUSTOMER: "customer",
}
CUSTOMER_ATTRS = {
    history.MANAGER: "manager", history.CITY: "city", history.CUSTOM_REGISTRATION: "reg",
    history.CUSTOM_INTERESTS: "interests", history.CUSTOM_NEWSLETTER: "newsletter",
}


def change(row: OrderRow | CustomerRow, kind: int, value: int, ts: int) -> int:
    """Set one field of a row, remembering its value at creation; return the old value."""
    attrs = ORDER_ATTRS if isinstance(row, OrderRow) else CUSTOMER_ATTRS
    name = attrs[kind]
    old = getattr(row, name)
    orig = row.orig or ()
    if kind not in orig[::2]:
        row.orig = (*orig, kind, old)
    setattr(row, name, value)
    if kind == history.STATUS and isinstance(row, OrderRow):
        row.status_upd = ts
    return old


def initial_value(row: OrderRow | CustomerRow, kind: int) -> int:
    """The value a field had when the row was created."""
    orig = row.orig
    if orig:
        for position in range(0, len(orig), 2):
            if orig[position] == kind:
                return orig[position + 1]
    attrs = ORDER_ATTRS if isinstance(row, OrderRow) else CUSTOMER_ATTRS
    return getattr(row, attrs[kind])


def at_creation(row: OrderRow | CustomerRow, created_ts: int) -> OrderRow | CustomerRow:
    """A copy of a row as it was when created at `created_ts` (its edited fields put back)."""
    copy = object.__new__(type(row))
    for name in row.__slots__:
        setattr(copy, name, getattr(row, name))
    attrs = ORDER_ATTRS if isinstance(row, OrderRow) else CUSTOMER_ATTRS
    orig = row.orig or ()
    for kind, value in zip(orig[::2], orig[1::2]):
        setattr(copy, attrs[kind], value)
    if isinstance(copy, OrderRow):
        copy.status_upd = created_ts
    return copy
