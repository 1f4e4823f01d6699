"""The retailer: customers (with contacts and habits), stores and the product catalog."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .rng import choice_idx, stream
from .strings import concat, ints, sarr, substr, take, where

CUSTOMERS_PER_SCALE = 7_000

FIRST_NAMES = (  # noqa: SIM905
    "ivan alexey dmitry sergey andrey maxim artem nikita mikhail egor pavel roman oleg "
    "anna maria elena olga natalia irina tatiana ekaterina svetlana yulia daria polina "
    "ksenia alina victoria sofia anastasia vera"
).split()
LAST_NAMES = (  # noqa: SIM905
    "ivanov smirnov kuznetsov popov vasiliev petrov sokolov mikhailov novikov fedorov "
    "morozov volkov alekseev lebedev semenov egorov pavlov kozlov stepanov nikolaev orlov "
    "andreev makarov nikitin zakharov zaitsev soloviev borisov yakovlev grigoriev"
).split()
DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "icloud.com", "bk.ru", "inbox.ru", "outlook.com")
DOMAIN_WEIGHTS = (0.30, 0.25, 0.18, 0.11, 0.06, 0.05, 0.05)
ICLOUD = DOMAINS.index("icloud.com")
# The long tail of mailbox domains: besides the big providers above, work addresses at many small
# company domains with a Zipf-like size (a few with hundreds of people, most with a handful).
COMPANY_SHARE = 0.17
COMPANY_DOMAINS_PER_SQRT_SCALE = 160
COMPANY_ZIPF = 1.1
COMPANY_STEMS = (  # noqa: SIM905
    "vektor alfa severstal uralmash volga neva baltika sibir amur kama oka don ladoga onega "
    "taiga polus zenit orion kristall granit rubin almaz yantar sokol berkut kedr dubrava "
    "zarya rassvet progress energiya signal impuls format profil optima"
).split()
COMPANY_KINDS = (  # noqa: SIM905
    "group tech soft trade stroy logistic pharm agro service media energo bank invest"
).split()
COMPANY_TLDS = (".ru", ".com", ".net", ".su")

PLATFORMS = ("ios", "android", "web")

# Russian store time zones: offset (minutes) and weight
STORE_ZONES = ((180, 0.68), (120, 0.06), (240, 0.08), (300, 0.10), (420, 0.08))

CATEGORIES = (
    "Dairy",
    "Bakery",
    "Fruit",
    "Vegetables",
    "Meat",
    "Poultry",
    "Fish & Seafood",
    "Cheese",
    "Deli",
    "Frozen Foods",
    "Ice Cream",
    "Eggs",
    "Breakfast Cereals",
    "Pasta & Rice",
    "Canned Goods",
    "Sauces & Condiments",
    "Spices",
    "Baking Supplies",
    "Snacks",
    "Chocolate",
    "Candy",
    "Cookies",
    "Coffee",
    "Tea",
    "Juices",
    "Soft Drinks",
    "Mineral Water",
    "Beer",
    "Wine",
    "Spirits",
    "Baby Food",
    "Diapers",
    "Pet Food",
    "Household Cleaning",
    "Laundry",
    "Paper Goods",
    "Personal Care",
    "Hair Care",
    "Oral Care",
    "Cosmetics",
    "Fragrances",
    "Pharmacy",
    "Vitamins",
    "Kitchenware",
    "Tableware",
    "Home Textiles",
    "Home Decor",
    "Lighting",
    "Small Appliances",
    "Electronics Accessories",
    "Stationery",
    "Books & Magazines",
    "Toys",
    "Sports & Outdoor",
    "Garden",
    "Auto Accessories",
    "Seasonal",
    "Flowers",
    "Clothing",
    "Footwear",
    "Ready Meals",
    "Healthy Food",
)
WEIGHED = {"Fruit", "Vegetables", "Meat", "Poultry", "Fish & Seafood", "Cheese", "Deli"}
BRANDS = (
    "Vkusno",
    "Severnaya",
    "Domik",
    "Zolotoy",
    "Lavka",
    "Krasnaya Gorka",
    "Prostor",
    "Ural",
    "Belaya Reka",
    "Solnechny",
    "Polyana",
    "Lesnoy",
    "Volga",
    "Baikal",
    "Sibir",
    "Zarya",
)
VARIANTS = ("Classic", "Premium", "Light", "Family pack", "Mini", "Organic", "Extra", "Original")


@dataclass
class Customers:
    n: int
    customer_id: pa.Array
    email: pa.Array  # normalized (lower-case) e-mail
    email_display: pa.Array  # as the CRM stores it: some capitalized / padded
    phone: pa.Array  # E.164
    phone_display: pa.Array  # as the CRM stores it: some '+7 (912) 345-67-89'
    phone_formatted: pa.Array  # always the formatted variant
    has_email: np.ndarray
    has_phone: np.ndarray
    platform: np.ndarray  # -1: no app, else index into PLATFORMS
    icloud: np.ndarray
    email_dead: np.ndarray  # every e-mail hard-bounces
    phone_dead_code: np.ndarray  # 0 or the Twilio error every SMS to the number fails with
    open_affinity: np.ndarray  # multiplies open/click probabilities
    purchase_rate: np.ndarray  # baseline purchases per day
    online_share: np.ndarray
    home_store: np.ndarray


@dataclass
class Stores:
    n: int
    store_id: pa.Array
    offset_min: np.ndarray
    weight: np.ndarray


@dataclass
class Products:
    n: int
    product_id: pa.Array
    name: pa.Array
    category: np.ndarray  # index into CATEGORIES
    price_cents: np.ndarray
    weight: np.ndarray  # popularity
    weighed: np.ndarray  # sold by weight (decimal quantities)
    category_id: pa.Array
    category_name: pa.Array


@dataclass
class World:
    scale: int
    customers: Customers
    stores: Stores
    products: Products


def build_world(seed: int, scale: int) -> World:
    stores = _stores(seed, scale)
    return World(scale, _customers(seed, scale, stores), stores, _products(seed))


def _customers(seed: int, scale: int, stores: Stores) -> Customers:
    rng = stream(seed, "world", "customers")
    n = CUSTOMERS_PER_SCALE * scale
    idx = np.arange(n)
    customer_id = concat("C", ints(idx + 1, 7))

    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    domain = choice_idx(rng, np.array(DOMAIN_WEIGHTS), n)
    pattern = rng.integers(0, 3, n)
    f, ln = take(FIRST_NAMES, first), take(LAST_NAMES, last)
    num = ints(idx + 11)
    local_a = concat(f, ".", ln, num)
    local_b = concat(take([s[0] for s in FIRST_NAMES], first), ln, num)
    local_c = concat(ln, "_", f, num)
    local = where(pattern == 0, local_a, where(pattern == 1, local_b, local_c))
    big = take(DOMAINS, domain)
    big_cap = take([d.upper() if i % 2 else d.capitalize() for i, d in enumerate(DOMAINS)], domain)
    company, company_name = _company_domains(seed, scale, n)
    domain_name = where(company >= 0, company_name, big)
    email = concat(local, "@", domain_name)
    cap = concat(
        take([s.capitalize() for s in FIRST_NAMES], first),
        ".",
        take([s.capitalize() for s in LAST_NAMES], last),
        num,
        "@",
        where(company >= 0, company_name, big_cap),
    )
    style = rng.random(n)
    # the CRM keeps what people typed: some capitalized, some with stray spaces
    email_display = where(
        (style < 0.06) & (pattern == 0), cap, where(style > 0.97, concat(" ", email, " "), email)
    )

    # unique 9-digit subscriber numbers via an affine permutation of 0..1e9-1
    sub = (idx * 387_420_489 + int(rng.integers(0, 10**9))) % 10**9
    digits = ints(sub, 9)
    phone = concat("+79", digits)
    code = concat("9", substr(digits, 0, 2))
    phone_formatted = concat(
        "+7 (",
        code,
        ") ",
        substr(digits, 2, 5),
        "-",
        substr(digits, 5, 7),
        "-",
        substr(digits, 7, 9),
    )
    phone_display = where(rng.random(n) < 0.2, phone_formatted, phone)

    has_email = rng.random(n) < 0.86
    has_phone = rng.random(n) < 0.93
    platform = np.where(
        rng.random(n) < 0.42, choice_idx(rng, np.array([0.45, 0.5, 0.05]), n), -1
    ).astype(np.int8)
    icloud = (domain == ICLOUD) & (company < 0)
    email_dead = has_email & (rng.random(n) < 0.012)
    dead_phone = has_phone & (rng.random(n) < 0.015)
    dead_codes = np.array([30005, 21614, 30006, 30007])
    phone_dead_code = np.where(dead_phone, dead_codes[rng.integers(0, 4, n)], 0)
    open_affinity = rng.gamma(2.0, 0.5, n)
    purchase_rate = rng.gamma(0.8, 0.045 / 0.8, n)
    online_share = rng.beta(1.2, 6.0, n)
    home_store = choice_idx(rng, stores.weight, n)
    return Customers(
        n,
        customer_id,
        email,
        email_display,
        phone,
        phone_display,
        phone_formatted,
        has_email,
        has_phone,
        platform,
        icloud,
        email_dead,
        phone_dead_code,
        open_affinity,
        purchase_rate,
        online_share,
        home_store,
    )


def company_domain_names(count: int) -> list[str]:
    """``count`` distinct small-company domains (``vektor-tech.ru``, ``amur-group.com``, ...)."""
    per_tld = len(COMPANY_STEMS) * len(COMPANY_KINDS)
    if count > per_tld * len(COMPANY_TLDS):
        raise ValueError(f"at most {per_tld * len(COMPANY_TLDS)} company domains")
    out = []
    for k in range(count):
        stem = COMPANY_STEMS[k % len(COMPANY_STEMS)]
        kind = COMPANY_KINDS[(k // len(COMPANY_STEMS)) % len(COMPANY_KINDS)]
        out.append(f"{stem}-{kind}{COMPANY_TLDS[k // per_tld]}")
    return out


def _company_domains(seed: int, scale: int, n: int) -> tuple[np.ndarray, pa.Array]:
    """Per customer: the index of a company domain (-1: a big provider's address) and its name.
    From a stream of its own, so the other customer attributes stay as they were."""
    rng = stream(seed, "world", "company-domains")
    count = int(COMPANY_DOMAINS_PER_SQRT_SCALE * np.sqrt(scale))
    names = company_domain_names(count)
    size = 1.0 / (1.0 + rng.permutation(count)) ** COMPANY_ZIPF
    company = np.where(rng.random(n) < COMPANY_SHARE, choice_idx(rng, size, n), -1)
    return company, take(names, np.maximum(company, 0))


def _stores(seed: int, scale: int) -> Stores:
    rng = stream(seed, "world", "stores")
    n = 12 * int(np.ceil(np.sqrt(scale)))
    zones = np.array([z for z, _ in STORE_ZONES])
    zone_w = np.array([w for _, w in STORE_ZONES])
    offset = zones[choice_idx(rng, zone_w, n)]
    offset[0] = 180  # the flagship is in Moscow
    return Stores(
        n,
        concat("S", ints(np.arange(1, n + 1), 3)),
        offset,
        rng.lognormal(0.0, 0.5, n),
    )


def _products(seed: int) -> Products:
    rng = stream(seed, "world", "products")
    n_cat = len(CATEGORIES)
    # long tail: a Zipf-like popularity over categories in a shuffled order
    cat_rank = rng.permutation(n_cat)
    cat_pop = 1.0 / (1.0 + cat_rank) ** 1.05
    cat_price = np.exp(rng.uniform(np.log(60), np.log(2500), n_cat))
    for i, c in enumerate(CATEGORIES):
        if c in ("Small Appliances", "Electronics Accessories", "Footwear", "Clothing"):
            cat_price[i] = rng.uniform(1500, 6000)
        if c in ("Bakery", "Dairy", "Eggs", "Mineral Water"):
            cat_price[i] = rng.uniform(50, 150)
    sizes = rng.integers(8, 45, n_cat)
    category = np.repeat(np.arange(n_cat), sizes)
    n = len(category)
    within = np.concatenate([np.arange(s) for s in sizes])
    weight = cat_pop[category] / (1.0 + within) ** 0.9
    weight = weight / weight.sum()
    price = cat_price[category] * rng.lognormal(0.0, 0.35, n)
    price_cents = (np.round(price * 100 / 10) * 10 - 1).astype(np.int64)  # 199.90-style
    price_cents = np.maximum(price_cents, 999)
    weighed_cat = np.array([c in WEIGHED for c in CATEGORIES])
    cat_names = sarr(list(CATEGORIES))
    name = concat(
        take(BRANDS, rng.integers(0, len(BRANDS), n)),
        " ",
        cat_names.take(pa.array(category)),
        " ",
        take(VARIANTS, rng.integers(0, len(VARIANTS), n)),
    )
    return Products(
        n,
        concat("P", ints(np.arange(1, n + 1), 6)),
        name,
        category,
        price_cents,
        weight,
        weighed_cat[category],
        concat("cat-", ints(category + 1, 2)),
        cat_names.take(pa.array(category)),
    )
