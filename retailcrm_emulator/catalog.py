"""Static reference data of the emulated account: sites, statuses, methods, people, products.

Everything here is plain tuples so the generator can refer to entries by index and keep
per-order storage small.
"""

from __future__ import annotations

TIMEZONE = "Europe/Moscow"
CURRENCY = "RUB"

SITES: tuple[tuple[str, str, str], ...] = (
    ("main-store", "Основной магазин", "https://shop.example.ru"),
    ("second-store", "Второй магазин", "https://second.example.ru"),
)

STATUS_GROUPS: tuple[tuple[str, str], ...] = (
    ("new", "Новый"),
    ("approval", "Согласование"),
    ("assembling", "Комплектация"),
    ("delivery", "Доставка"),
    ("complete", "Выполнен"),
    ("cancel", "Отменен"),
)

# (code, name, group, active)
STATUSES: tuple[tuple[str, str, str, bool], ...] = (
    ("new", "Новый", "new", True),
    ("availability-confirmed", "Наличие подтверждено", "approval", True),
    ("offer-analog", "Предложить замену", "approval", True),
    ("client-confirmed", "Согласовано с клиентом", "approval", True),
    ("prepayed", "Предоплата поступила", "approval", True),
    ("assembling", "Комплектуется", "assembling", True),
    ("assembling-complete", "Укомплектован", "assembling", True),
    ("send-to-delivery", "Передан в доставку", "delivery", True),
    ("delivering", "Доставляется", "delivery", True),
    ("redirect", "Доставка перенесена", "delivery", True),
    ("complete", "Выполнен", "complete", True),
    ("no-call", "Недозвон", "cancel", True),
    ("no-product", "Нет в наличии", "cancel", True),
    ("already-buyed", "Купил в другом месте", "cancel", True),
    ("delyvery-did-not-suit", "Не устроила доставка", "cancel", True),
    ("prices-did-not-suit-us", "Не устроила цена", "cancel", True),
    ("cancel-other", "Отменен", "cancel", True),
    ("return", "Возврат", "cancel", False),
)
STATUS_INDEX = {code: i for i, (code, _, _, _) in enumerate(STATUSES)}

# Happy path of the workflow; each step after "new" may be skipped, "complete" never is.
COMPLETE_PATH = (
    ("availability-confirmed", 0.6),
    ("client-confirmed", 0.5),
    ("assembling", 0.8),
    ("assembling-complete", 0.3),
    ("send-to-delivery", 0.7),
    ("delivering", 0.6),
    ("complete", 1.0),
)
CANCEL_STATUSES = (
    ("cancel-other", 30),
    ("no-call", 25),
    ("prices-did-not-suit-us", 15),
    ("already-buyed", 12),
    ("no-product", 10),
    ("delyvery-did-not-suit", 8),
)

ORDER_TYPES: tuple[tuple[str, str], ...] = (
    ("eshop-individual", "Физическое лицо"),
    ("eshop-legal", "Юридическое лицо"),
)
ORDER_METHODS: tuple[tuple[str, str, int], ...] = (
    ("shopping-cart", "Оформлен через корзину", 45),
    ("phone", "По телефону", 20),
    ("one-click", "В один клик", 15),
    ("landing-page", "Лендинг", 8),
    ("messenger", "Мессенджер", 12),
)

# (id, first name, last name, weight)
MANAGERS: tuple[tuple[int, str, str, int], ...] = (
    (5, "Анна", "Смирнова", 22),
    (7, "Игорь", "Кузнецов", 18),
    (9, "Мария", "Попова", 16),
    (12, "Дмитрий", "Васильев", 12),
    (14, "Елена", "Петрова", 10),
    (17, "Сергей", "Соколов", 9),
    (21, "Ольга", "Михайлова", 8),
    (23, "Алексей", "Новиков", 5),
)
ADMIN_USER_ID = 1

# (source, medium, campaign, weight); None fields are omitted from the payload.
UTM_SOURCES: tuple[tuple[str, str | None, str | None, int], ...] = (
    ("yandex", "cpc", "brand", 14),
    ("yandex", "cpc", "black_friday", 6),
    ("yandex", "organic", None, 10),
    ("google", "cpc", "search_generic", 7),
    ("google", "organic", None, 8),
    ("vk", "social", "retargeting", 8),
    ("vk", "cpc", "lookalike", 4),
    ("telegram", "social", "channel_post", 6),
    ("direct", None, None, 14),
    ("email", "newsletter", "weekly_digest", 6),
)
NO_SOURCE_SHARE = 0.15

# (canonical name, weight, dirty variants seen in real accounts)
CITIES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("Москва", 30, (" москва ", "МОСКВА", "москва", "Москва ")),
    ("Санкт-Петербург", 15, ("санкт-петербург", "Санкт-петербург", " САНКТ-ПЕТЕРБУРГ")),
    ("Екатеринбург", 6, ("екатеринбург", "ЕКАТЕРИНБУРГ ")),
    ("Новосибирск", 6, ("новосибирск", " Новосибирск")),
    ("Казань", 5, ("казань", "КАЗАНЬ")),
    ("Нижний Новгород", 4, ("нижний новгород", "Нижний  Новгород")),
    ("Краснодар", 4, ("краснодар ",)),
    ("Самара", 3, ("самара",)),
    ("Ростов-на-Дону", 3, ("ростов-на-дону", "Ростов-На-Дону")),
    ("Уфа", 2, ("уфа",)),
    ("Челябинск", 2, ("челябинск",)),
    ("Воронеж", 2, ("ВОРОНЕЖ",)),
    ("Пермь", 2, ("пермь ",)),
)
DIRTY_CITY_SHARE = 0.15
NO_CITY_SHARE = 0.08

STREETS: tuple[str, ...] = (
    "ул. Ленина", "ул. Тверская", "пр-т Мира", "ул. Садовая", "Невский пр-т", "ул. Пушкина",
    "ул. Гагарина", "ул. Советская", "ул. Кирова", "ул. Первомайская", "ул. Лесная",
    "Ленинградский пр-т", "ул. Профсоюзная", "ул. Баумана", "ул. Чехова", "ул. Льва Толстого",
    "ул. Молодёжная", "ул. Школьная", "пер. Строителей", "ул. Малышева", "ул. Красная",
    "б-р Победы", "ул. Набережная", "ул. Октябрьская",
)

# (code, name, cost in kopecks, weight)
DELIVERIES: tuple[tuple[str, str, int, int], ...] = (
    ("courier", "Курьер", 35000, 45),
    ("self-delivery", "Самовывоз", 0, 20),
    ("russian-post", "Почта России", 29050, 15),
    ("cdek", "СДЭК", 31990, 20),
)

# (code, name)
PAYMENT_TYPES: tuple[tuple[str, str], ...] = (
    ("bank-card", "Банковская карта"),
    ("cash", "Наличные"),
    ("sbp", "СБП"),
    ("bank-transfer", "Безналичный расчёт"),
)
PAYMENT_STATUSES: tuple[tuple[str, str], ...] = (("not-paid", "Не оплачен"), ("paid", "Оплачен"))

# (name, article, price in kopecks, purchase price in kopecks)
PRODUCTS: tuple[tuple[str, str, int, int], ...] = (
    ("Чайник электрический Vitek", "VT-7055", 349000, 210000),
    ("Блендер погружной Bosch", "MSM-2410", 459050, 300000),
    ("Кофемолка Polaris", "PCG-1317", 189990, 110000),
    ("Утюг Philips", "GC-1751", 299900, 190000),
    ("Пылесос Xiaomi Mi Vacuum", "MJ-G9", 1499000, 1000000),
    ("Наушники JBL Tune 510BT", "JBL-510", 399000, 250000),
    ("Фитнес-браслет Xiaomi Band 8", "MB-8", 349050, 220000),
    ("Power bank 20000 mAh", "PB-20K", 249000, 140000),
    ("Кабель USB-C 2 м", "USBC-2M", 49900, 15000),
    ("Зарядное устройство 65 Вт", "CH-65W", 229000, 120000),
    ("Набор кастрюль Tefal", "TF-SET6", 890000, 560000),
    ("Сковорода 28 см", "PAN-28", 259990, 150000),
    ("Плед флисовый", "PLD-150", 139000, 60000),
    ("Подушка ортопедическая", "PIL-ORT", 319000, 180000),
    ("Постельное бельё евро", "BED-EURO", 459000, 250000),
    ("Крем для лица увлажняющий", "CRM-50", 129050, 50000),
    ("Шампунь 400 мл", "SHP-400", 59900, 22000),
    ("Набор кистей для макияжа", "BRS-12", 189000, 80000),
    ("Коврик для йоги", "YOGA-6", 219000, 110000),
    ("Гантели 2×5 кг", "DMB-5", 399000, 240000),
    ("Бутылка для воды 750 мл", "BTL-750", 79900, 30000),
    ("Конструктор 500 деталей", "LEGO-500", 599000, 380000),
    ("Мягкая игрушка медведь", "TOY-BEAR", 149000, 70000),
    ("Детский рюкзак", "BAG-KID", 259000, 140000),
    ("Книга «Мастер и Маргарита»", "BK-MM", 69900, 35000),
    ("Ежедневник А5", "NB-A5", 45050, 18000),
    ("Набор ручек гелевых", "PEN-10", 29900, 9000),
    ("Настольная лампа LED", "LMP-LED", 279000, 150000),
    ("Умная колонка Яндекс Станция Лайт", "YS-LITE", 599000, 450000),
    ("Термокружка 450 мл", "TMG-450", 129900, 60000),
)

MALE_FIRST = (
    "Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья", "Кирилл",
    "Михаил", "Никита", "Иван", "Егор", "Павел", "Роман", "Владимир",
)
FEMALE_FIRST = (
    "Анастасия", "Мария", "Анна", "Виктория", "Екатерина", "Наталья", "Ольга", "Татьяна",
    "Елена", "Юлия", "Дарья", "Ксения", "Светлана", "Ирина", "Полина", "Алина",
)
# (male form, latin for e-mails); the female form adds "а".
LAST_NAMES: tuple[tuple[str, str], ...] = (
    ("Иванов", "ivanov"), ("Смирнов", "smirnov"), ("Кузнецов", "kuznetsov"), ("Попов", "popov"),
    ("Васильев", "vasiliev"), ("Петров", "petrov"), ("Соколов", "sokolov"), ("Михайлов", "mikhailov"),
    ("Новиков", "novikov"), ("Фёдоров", "fedorov"), ("Морозов", "morozov"), ("Волков", "volkov"),
    ("Алексеев", "alekseev"), ("Лебедев", "lebedev"), ("Семёнов", "semenov"), ("Егоров", "egorov"),
    ("Павлов", "pavlov"), ("Козлов", "kozlov"), ("Степанов", "stepanov"), ("Николаев", "nikolaev"),
    ("Орлов", "orlov"), ("Андреев", "andreev"), ("Макаров", "makarov"), ("Никитин", "nikitin"),
    ("Захаров", "zakharov"), ("Зайцев", "zaitsev"), ("Соловьёв", "soloviev"), ("Борисов", "borisov"),
)
EMAIL_DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru")

# Custom dictionaries: (code, name, ((element code, label), ...)).
DICTIONARIES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "registration_method",
        "Способ регистрации",
        (
            ("site", "Регистрация на сайте"),
            ("phone", "По звонку"),
            ("marketplace", "Через маркетплейс"),
            ("social", "Через соцсети"),
            ("offline", "В офлайн-магазине"),
        ),
    ),
    (
        "interests",
        "Интересы",
        (
            ("electronics", "Электроника"),
            ("home", "Дом и сад"),
            ("beauty", "Красота и здоровье"),
            ("sport", "Спорт и отдых"),
            ("kids", "Детские товары"),
            ("books", "Книги и канцелярия"),
        ),
    ),
)
REGISTRATION_METHODS = tuple(code for code, _ in DICTIONARIES[0][2])
INTERESTS = tuple(code for code, _ in DICTIONARIES[1][2])

# Custom fields: (entity, code, name, type, dictionary code or None).
CUSTOM_FIELDS: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("order", "adress_client", "Адрес клиента", "string", None),
    ("order", "registration_method", "Способ регистрации", "dictionary", "registration_method"),
    ("order", "interests", "Интересы покупателя", "multiselect_dictionary", "interests"),
    ("order", "gift_wrap", "Подарочная упаковка", "boolean", None),
    ("customer", "registration_method", "Способ регистрации", "dictionary", "registration_method"),
    ("customer", "interests", "Интересы", "multiselect_dictionary", "interests"),
    ("customer", "newsletter", "Подписка на рассылку", "boolean", None),
    ("customer", "birth_date", "Дата рождения", "date", None),
)
