"""A retail network to play with: warehouses, a Belgian 3PL, ~40 stores, ~500 products, stock.

Deterministic (a fixed random seed) and idempotent: it adds only what is missing,
so a second run changes nothing. Opening stock goes through the ledger (one
receipt movement per stock row, written in bulk with the balances it explains),
so `manage.py stock_reconcile` agrees afterwards.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from demo import history
from inventory.models import Location, LocationClosedDay, Product, StockLevel, StockMovement
from orders.models import CarrierService, Channel, DeliveryPrice, TransitBand

SEED = 20260101
PRODUCT_COUNT = 500
REFERENCE = "seed_demo"

Kind = Location.Kind


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    kind: str
    address: str
    postcode: str
    city: str
    country: str
    time_zone: str
    lat: float
    lon: float
    ships: bool = False


WAREHOUSES = [
    Site(
        "DC-PARIS",
        "Paris-Nord distribution centre",
        Kind.WAREHOUSE,
        "ZAC Paris Nord 2, 13 rue de la Perdrix",
        "95700",
        "Roissy-en-France",
        "FR",
        "Europe/Paris",
        48.9754,
        2.5165,
        True,
    ),
    Site(
        "DC-LYON",
        "Lyon Saint-Priest distribution centre",
        Kind.WAREHOUSE,
        "Parc Technologique, 2 rue Gutenberg",
        "69800",
        "Saint-Priest",
        "FR",
        "Europe/Paris",
        45.7110,
        4.9310,
        True,
    ),
    Site(
        "DC-LILLE",
        "Lille Lesquin distribution centre",
        Kind.WAREHOUSE,
        "Parc d'activités de la Haute Borne, 8 rue des Saules",
        "59810",
        "Lesquin",
        "FR",
        "Europe/Paris",
        50.5890,
        3.1110,
        True,
    ),
    Site(
        "3PL-LIEGE",
        "Benelux 3PL, Liège Logistics",
        Kind.THIRD_PARTY,
        "Rue de l'Aéroport 40",
        "4460",
        "Grâce-Hollogne",
        "BE",
        "Europe/Brussels",
        50.6370,
        5.4550,
        True,
    ),
]

_FR, _BE, _LU, _CH = "Europe/Paris", "Europe/Brussels", "Europe/Luxembourg", "Europe/Zurich"
_DE, _ES, _IT, _NL = "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam"

# (code, name, street address, postcode, city, country, time zone, lat, lon, ships parcels)
_STORES = [
    ("ST-PARIS-RIVOLI", "Paris Rivoli", "112 rue de Rivoli", "75001", "Paris", "FR", _FR,
     48.8606, 2.3376, True),
    ("ST-PARIS-MONTPARNASSE", "Paris Montparnasse", "31 rue du Départ", "75015", "Paris", "FR",
     _FR, 48.8421, 2.3219, False),
    ("ST-LA-DEFENSE", "La Défense Les Quatre Temps", "15 parvis de la Défense", "92800",
     "Puteaux", "FR", _FR, 48.8920, 2.2380, False),
    ("ST-LYON-PARTDIEU", "Lyon Part-Dieu", "17 rue du Docteur Bouchut", "69003", "Lyon", "FR",
     _FR, 45.7606, 4.8590, True),
    ("ST-MARSEILLE", "Marseille Vieux-Port", "38 quai du Port", "13002", "Marseille", "FR", _FR,
     43.2965, 5.3698, True),
    ("ST-LILLE", "Lille Grand Place", "22 rue Neuve", "59000", "Lille", "FR", _FR,
     50.6369, 3.0635, False),
    ("ST-BORDEAUX", "Bordeaux Sainte-Catherine", "95 rue Sainte-Catherine", "33000",
     "Bordeaux", "FR", _FR, 44.8378, -0.5730, True),
    ("ST-TOULOUSE", "Toulouse Capitole", "8 rue du Taur", "31000", "Toulouse", "FR", _FR,
     43.6045, 1.4440, True),
    ("ST-NANTES", "Nantes Commerce", "4 rue de la Barillerie", "44000", "Nantes", "FR", _FR,
     47.2184, -1.5536, False),
    ("ST-STRASBOURG", "Strasbourg Kléber", "11 place Kléber", "67000", "Strasbourg", "FR", _FR,
     48.5834, 7.7458, True),
    ("ST-NICE", "Nice Masséna", "27 avenue Jean Médecin", "06000", "Nice", "FR", _FR,
     43.7009, 7.2683, False),
    ("ST-MONTPELLIER", "Montpellier Comédie", "6 rue de la Loge", "34000", "Montpellier", "FR",
     _FR, 43.6108, 3.8767, False),
    ("ST-RENNES", "Rennes République", "3 quai Lamartine", "35000", "Rennes", "FR", _FR,
     48.1097, -1.6790, False),
    ("ST-GRENOBLE", "Grenoble Victor Hugo", "2 place Victor Hugo", "38000", "Grenoble", "FR",
     _FR, 45.1885, 5.7245, False),
    ("ST-ROUEN", "Rouen Gros-Horloge", "54 rue du Gros-Horloge", "76000", "Rouen", "FR", _FR,
     49.4412, 1.0915, False),
    ("ST-DIJON", "Dijon Liberté", "41 rue de la Liberté", "21000", "Dijon", "FR", _FR,
     47.3220, 5.0415, False),
    ("ST-REIMS", "Reims Drouet d'Erlon", "62 place Drouet d'Erlon", "51100", "Reims", "FR", _FR,
     49.2535, 4.0290, False),
    ("ST-TOURS", "Tours Nationale", "70 rue Nationale", "37000", "Tours", "FR", _FR,
     47.3941, 0.6848, False),
    ("ST-CLERMONT", "Clermont-Ferrand Jaude", "18 place de Jaude", "63000", "Clermont-Ferrand",
     "FR", _FR, 45.7772, 3.0820, False),
    ("ST-AIX", "Aix-en-Provence Mirabeau", "21 cours Mirabeau", "13100", "Aix-en-Provence", "FR",
     _FR, 43.5263, 5.4474, False),
    ("ST-METZ", "Metz Serpenoise", "33 rue Serpenoise", "57000", "Metz", "FR", _FR,
     49.1163, 6.1733, False),
    ("ST-ANNECY", "Annecy Vieille Ville", "9 rue Royale", "74000", "Annecy", "FR", _FR,
     45.8992, 6.1294, False),
    ("ST-CAEN", "Caen Saint-Pierre", "45 rue Saint-Pierre", "14000", "Caen", "FR", _FR,
     49.1829, -0.3707, False),
    ("ST-ORLEANS", "Orléans République", "12 rue de la République", "45000", "Orléans", "FR", _FR,
     47.9030, 1.9093, False),
    ("ST-BRUXELLES", "Bruxelles Rue Neuve", "Rue Neuve 111", "1000", "Bruxelles", "BE", _BE,
     50.8530, 4.3553, True),
    ("ST-ANTWERPEN", "Antwerpen Meir", "Meir 78", "2000", "Antwerpen", "BE", _BE,
     51.2178, 4.4108, False),
    ("ST-GENT", "Gent Veldstraat", "Veldstraat 42", "9000", "Gent", "BE", _BE,
     51.0515, 3.7230, False),
    ("ST-LIEGE", "Liège Pont d'Avroy", "Rue Pont d'Avroy 25", "4000", "Liège", "BE", _BE,
     50.6410, 5.5710, False),
    ("ST-LUXEMBOURG", "Luxembourg Grand-Rue", "51 Grand-Rue", "L-1661", "Luxembourg", "LU", _LU,
     49.6116, 6.1300, True),
    ("ST-GENEVE", "Genève Rive", "Rue de Rive 8", "1204", "Genève", "CH", _CH,
     46.2017, 6.1490, True),
    ("ST-LAUSANNE", "Lausanne Saint-François", "Rue de Bourg 14", "1003", "Lausanne", "CH", _CH,
     46.5197, 6.6323, False),
    ("ST-ZURICH", "Zürich Bahnhofstrasse", "Bahnhofstrasse 65", "8001", "Zürich", "CH", _CH,
     47.3717, 8.5390, False),
    ("ST-KOELN", "Köln Schildergasse", "Schildergasse 48", "50667", "Köln", "DE", _DE,
     50.9360, 6.9530, True),
    ("ST-FRANKFURT", "Frankfurt Zeil", "Zeil 90", "60313", "Frankfurt am Main", "DE", _DE,
     50.1144, 8.6840, False),
    ("ST-SAARBRUECKEN", "Saarbrücken Bahnhofstraße", "Bahnhofstraße 71", "66111", "Saarbrücken",
     "DE", _DE, 49.2364, 6.9930, False),
    ("ST-BARCELONA", "Barcelona Passeig de Gràcia", "Passeig de Gràcia 27", "08007",
     "Barcelona", "ES", _ES, 41.3917, 2.1649, True),
    ("ST-MADRID", "Madrid Gran Vía", "Gran Vía 32", "28013", "Madrid", "ES", _ES,
     40.4200, -3.7025, False),
    ("ST-MILANO", "Milano Corso Buenos Aires", "Corso Buenos Aires 15", "20124", "Milano", "IT",
     _IT, 45.4780, 9.2100, True),
    ("ST-TORINO", "Torino Via Roma", "Via Roma 53", "10123", "Torino", "IT", _IT,
     45.0680, 7.6830, False),
    ("ST-AMSTERDAM", "Amsterdam Kalverstraat", "Kalverstraat 112", "1012 PK", "Amsterdam", "NL",
     _NL, 52.3690, 4.8910, True),
    ("ST-ROTTERDAM", "Rotterdam Lijnbaan", "Lijnbaan 63", "3012 EL", "Rotterdam", "NL", _NL,
     51.9205, 4.4760, False),
    ("ST-MAASTRICHT", "Maastricht Grote Staat", "Grote Staat 30", "6211 CW", "Maastricht", "NL",
     _NL, 50.8500, 5.6920, False),
]  # fmt: skip
STORES = [Site(code, name, Kind.STORE, *rest) for code, name, *rest in _STORES]

COLOURS = ["navy", "black", "white", "sand", "sage", "terracotta", "grey marl", "ecru",
           "forest green", "burgundy", "sky blue", "charcoal", "natural"]  # fmt: skip
SIZES_ML = ["15 ml", "30 ml", "50 ml", "100 ml", "200 ml", "400 ml"]

# Product names: "<adjective> <material> <item>, <variant>", per department; each item with
# its price range in euros.
DEPARTMENTS = {
    "AP": (
        {"T-shirt": (12, 35), "Shirt": (29, 79), "Sweater": (39, 129), "Cardigan": (45, 139),
         "Hoodie": (39, 89), "Jeans": (49, 119), "Chinos": (45, 99), "Dress": (39, 149),
         "Skirt": (29, 89), "Jacket": (79, 229), "Parka": (119, 299), "Scarf": (19, 79),
         "Beanie": (15, 39), "Socks (pack of 3)": (9, 19), "Polo shirt": (25, 65)},
        ["organic cotton", "linen", "merino wool", "denim", "recycled polyester", "cashmere",
         "jersey", "corduroy"],
        ["Classic", "Slim-fit", "Relaxed", "Oversized", "Cropped", "Essential", "Heritage"],
        COLOURS,
    ),
    "HO": (
        {"Cushion cover": (15, 45), "Throw": (39, 129), "Duvet cover": (49, 149),
         "Bath towel": (12, 39), "Tea towel": (6, 15), "Candle": (9, 39), "Vase": (19, 79),
         "Mug": (6, 19), "Serving bowl": (15, 59), "Table runner": (19, 49),
         "Storage basket": (15, 59), "Photo frame": (9, 39), "Rug": (59, 299)},
        ["stoneware", "linen", "cotton waffle", "glass", "rattan", "wool", "terracotta"],
        ["Nordic", "Rustic", "Minimal", "Striped", "Hand-made", "Washed", "Scalloped"],
        COLOURS,
    ),
    "BE": (
        {"Face cream": (15, 69), "Serum": (19, 89), "Cleansing gel": (9, 29),
         "Lip balm": (4, 15), "Hand cream": (6, 25), "Shampoo": (7, 29),
         "Conditioner": (7, 29), "Body lotion": (9, 39), "Eau de toilette": (29, 99),
         "Sheet mask": (4, 12), "Nail polish": (6, 19)},
        ["shea butter", "aloe vera", "rose", "argan oil", "vitamin C", "hyaluronic", "neroli"],
        ["Hydrating", "Soothing", "Radiance", "Night", "Daily", "Sensitive-skin", "Gentle"],
        SIZES_ML,
    ),
}  # fmt: skip


STORE_HOURS = "Monday to Saturday, 10:00 to 19:30"

# Carrier services: (code, name, method, closed weekdays, [(up to km, transit days)]).
CARRIERS = [
    ("colissimo", "Colissimo", "standard", "7", [(300, 2), (800, 3), (1500, 4), (3000, 6)]),
    ("chronopost-13", "Chronopost 13h", "express", "6,7", [(1000, 1), (2500, 2)]),
]
# What the customer pays, per method on every channel: (price, free from basket value).
PRICES = {
    "standard": ("4.90", "60.00"),
    "express": ("9.90", "150.00"),
    "same_day": ("14.90", None),
    "click_and_collect": ("0.00", None),
}
# Fixed-date public holidays per country, (month, day); movable feasts (Easter Monday,
# Ascension ...) are left out of the demo.
HOLIDAYS = {
    "FR": [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)],
    "BE": [(1, 1), (5, 1), (7, 21), (8, 15), (11, 1), (11, 11), (12, 25)],
    "LU": [(1, 1), (5, 1), (5, 9), (6, 23), (8, 15), (11, 1), (12, 25), (12, 26)],
    "CH": [(1, 1), (8, 1), (12, 25), (12, 26)],
    "DE": [(1, 1), (5, 1), (10, 3), (12, 25), (12, 26)],
    "ES": [(1, 1), (1, 6), (5, 1), (8, 15), (10, 12), (11, 1), (12, 6), (12, 8), (12, 25)],
    "IT": [(1, 1), (1, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 8), (12, 25)],
    "NL": [(1, 1), (4, 27), (5, 5), (12, 25), (12, 26)],
}


def _ean13(number: int) -> str:
    digits = f"376{number:09d}"  # 376: a French GS1 prefix range
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def _products(rng: random.Random, count: int) -> list[Product]:
    products = []
    prefixes = list(DEPARTMENTS)
    for n in range(count):
        prefix = prefixes[n % len(prefixes)]
        items, materials, adjectives, variants = DEPARTMENTS[prefix]
        item = rng.choice(list(items))
        name = (
            f"{rng.choice(adjectives)} {rng.choice(materials)} {item.lower()}, "
            f"{rng.choice(variants)}"
        )
        low, high = items[item]
        price = Decimal(rng.randint(low, high)) - Decimal("0.01")
        products.append(
            Product(
                sku=f"{prefix}-{10001 + n}",
                name=name[0].upper() + name[1:],
                barcode=_ean13(10001 + n),
                price=price,
            )
        )
    return products


def _location(site: Site, priority: int) -> Location:
    if site.kind == Kind.WAREHOUSE:
        costs = ("4.50", "0.0040", "0.25", 1, time(16, 0))
    elif site.kind == Kind.THIRD_PARTY:
        costs = ("5.20", "0.0050", "0.45", 2, time(13, 0))
    else:
        costs = ("8.90", "0.0075", "1.40", 1, time(12, 0))
    shipment_cost, cost_per_km, unit_cost, processing_days, cutoff = costs
    return Location(
        code=site.code,
        name=site.name,
        kind=site.kind,
        address=site.address,
        postcode=site.postcode,
        city=site.city,
        country=site.country,
        time_zone=site.time_zone,
        lat=site.lat,
        lon=site.lon,
        ships=site.ships,
        click_and_collect=site.kind == Kind.STORE,
        priority=priority,
        shipment_cost=Decimal(shipment_cost),
        cost_per_km=Decimal(cost_per_km),
        unit_cost=Decimal(unit_cost),
        processing_days=processing_days,
        cutoff_time=cutoff,
        # Warehouses work Monday to Friday; stores open every day but Sunday.
        closed_weekdays="7" if site.kind == Kind.STORE else "6,7",
        opening_hours=STORE_HOURS if site.kind == Kind.STORE else "",
    )


def _sites() -> list[tuple[Site, int]]:
    sites = [(site, 10 * (i + 1)) for i, site in enumerate(WAREHOUSES)]
    sites += [(site, 100 + i) for i, site in enumerate(STORES)]
    return sites


def _stock_plan(rng: random.Random, skus: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """Return {(sku, code): (on_hand, safety_stock)}: warehouses deep, stores sparse."""
    plan = {}
    depth = {"DC-PARIS": 0.9, "DC-LYON": 0.7, "DC-LILLE": 0.6, "3PL-LIEGE": 0.4}
    for site in WAREHOUSES:
        for sku in skus:
            if rng.random() < depth[site.code]:
                on_hand = 0 if rng.random() < 0.05 else rng.randint(20, 800)
                safety = rng.choice([0, 0, 5, 10])
                plan[sku, site.code] = (on_hand, safety)
    for site in STORES:
        range_share = rng.uniform(0.12, 0.25)  # bigger stores carry more of the range
        for sku in skus:
            if rng.random() < range_share:
                on_hand = 0 if rng.random() < 0.15 else rng.randint(1, 12)
                safety = 1 if on_hand and rng.random() < 0.2 else 0
                plan[sku, site.code] = (on_hand, safety)
    return plan


class Command(BaseCommand):
    help = (
        "Load a demo retail network: 3 warehouses in France, a 3PL in Belgium, 42 stores in "
        "France and its neighbours, 500 products and their opening stock, channel settings. "
        "Adds only what is missing: a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--products",
            type=int,
            default=PRODUCT_COUNT,
            help=f"How many products (default {PRODUCT_COUNT}); fewer makes a quicker demo.",
        )
        parser.add_argument(
            "--history-days",
            type=int,
            default=history.DAYS,
            help=f"Days of closed order history (default {history.DAYS}; 0: none).",
        )
        parser.add_argument(
            "--no-story",
            action="store_true",
            help="Only the network: no order history, open orders, alert rules or webhooks.",
        )

    def handle(self, *args, products: int, history_days: int, no_story: bool, **options):
        # The look-ups below pass every id in one IN (...): SQLite allows 32,766 parameters.
        if not 1 <= products <= 5_000:
            raise CommandError("--products takes 1 to 5000.")
        if not 0 <= history_days <= 400:
            raise CommandError("--history-days takes 0 to 400.")
        created, units = self._network(products)
        if not no_story:
            # After the network's transaction: the services below each commit their own.
            rng = random.Random(SEED + 1)
            created["past orders"] = history.history_seed(rng=rng, days=history_days)
            created["open orders"] = history.open_orders_seed(rng=rng)
            created["alert rules"] = history.alerting_seed()
            created["webhook subscriptions"] = history.webhooks_seed()
        if not any(created.values()):
            self.stdout.write("Demo data already present; nothing changed.")
        else:
            summary = ", ".join(f"{n} {what}" for what, n in created.items())
            self.stdout.write(
                self.style.SUCCESS(f"Demo data loaded: {summary}; {units} units received.")
            )
            if not no_story:
                self.stdout.write(f"{history.open_alerts()} alerts open.")
        # One login per role, with a published password: a local demo (DEBUG) only.
        if settings.DEBUG:
            call_command("seed_demo_staff", stdout=self.stdout)

    @transaction.atomic
    def _network(self, products: int) -> tuple[dict[str, int], int]:
        rng = random.Random(SEED)
        catalogue = _products(rng, products)
        created = {
            "locations": self._locations(),
            "products": self._products(catalogue),
        }
        stock_rows, units = self._stock(rng, [product.sku for product in catalogue])
        created["stock rows"] = stock_rows
        created["channel settings"] = self._channels()
        created["carrier services"] = self._carriers()
        created["delivery prices"] = self._prices()
        created["closed days"] = self._closed_days()
        return created, units

    def _locations(self) -> int:
        existing = set(Location.objects.values_list("code", flat=True))
        missing = [_location(site, prio) for site, prio in _sites() if site.code not in existing]
        Location.objects.bulk_create(missing)
        return len(missing)

    def _products(self, products: list[Product]) -> int:
        existing = set(Product.objects.values_list("sku", flat=True))
        missing = [p for p in products if p.sku not in existing]
        Product.objects.bulk_create(missing, batch_size=500)
        return len(missing)

    def _stock(self, rng: random.Random, skus: list[str]) -> tuple[int, int]:
        plan = _stock_plan(rng, skus)
        product_ids = dict(Product.objects.filter(sku__in=skus).values_list("sku", "id"))
        codes = [site.code for site, _ in _sites()]
        location_ids = dict(Location.objects.filter(code__in=codes).values_list("code", "id"))
        existing = set(
            StockLevel.objects.filter(
                product_id__in=product_ids.values(), location_id__in=location_ids.values()
            ).values_list("product_id", "location_id")
        )
        rows = []
        for (sku, code), (on_hand, safety) in plan.items():
            place = (product_ids[sku], location_ids[code])
            if place not in existing:
                rows.append(
                    StockLevel(
                        product_id=place[0],
                        location_id=place[1],
                        on_hand=on_hand,
                        safety_stock=safety,
                    )
                )
        if not rows:
            return 0, 0
        StockLevel.objects.bulk_create(rows, batch_size=1000)
        # Read the new rows back by place: not every database returns ids from a bulk insert.
        new_places = {(row.product_id, row.location_id): row.on_hand for row in rows}
        stock_ids = {
            (p, loc): pk
            for pk, p, loc in StockLevel.objects.filter(
                product_id__in={p for p, _ in new_places},
                location_id__in={loc for _, loc in new_places},
            ).values_list("id", "product_id", "location_id")
        }
        now = timezone.now()
        operation = uuid.uuid4()
        # The ledger explains every unit: one receipt per row, for exactly its on_hand.
        movements = [
            StockMovement(
                stock_id=stock_ids[place],
                kind=StockMovement.Kind.RECEIPT,
                quantity=on_hand,
                on_hand_after=on_hand,
                reference=REFERENCE,
                reason="Opening stock (demo data)",
                operation=operation,
                created_at=now,
            )
            for place, on_hand in new_places.items()
            if on_hand > 0
        ]
        StockMovement.objects.bulk_create(movements, batch_size=1000)
        return len(rows), sum(new_places.values())

    def _channels(self) -> int:
        """Give the marketplace a buffer and the store channel the stores, unless set already."""
        changed = 0
        marketplace = Channel.objects.filter(code="marketplace").first()
        if marketplace and not marketplace.buffer_units and not marketplace.buffer_percent:
            marketplace.buffer_units = 2
            marketplace.buffer_percent = Decimal("10")
            marketplace.save(update_fields=["buffer_units", "buffer_percent"])
            changed += 1
        store = Channel.objects.filter(code="store").first()
        if store and not store.locations.exists():
            store.locations.set(Location.objects.filter(code__in=[s.code for s in STORES]))
            changed += 1
        return changed

    def _carriers(self) -> int:
        """Add the demo carrier services and their transit bands, unless they exist."""
        existing = set(CarrierService.objects.values_list("code", flat=True))
        created = 0
        for code, name, method, closed, bands in CARRIERS:
            if code in existing:
                continue
            service = CarrierService.objects.create(
                code=code, name=name, method=method, closed_weekdays=closed
            )
            TransitBand.objects.bulk_create(
                TransitBand(service=service, max_km=km, days=days) for km, days in bands
            )
            created += 1
        return created

    def _prices(self) -> int:
        """Price every delivery method on every channel that has no price for it yet."""
        existing = set(DeliveryPrice.objects.values_list("channel_id", "method"))
        missing = [
            DeliveryPrice(
                channel=channel,
                method=method,
                price=Decimal(price),
                free_above=Decimal(free) if free else None,
                currency="EUR",
            )
            for channel in Channel.objects.all()
            for method, (price, free) in PRICES.items()
            if (channel.pk, method) not in existing
        ]
        DeliveryPrice.objects.bulk_create(missing)
        return len(missing)

    def _closed_days(self) -> int:
        """Close every demo location on its country's public holidays, this year and next."""
        year = timezone.localdate().year
        codes = [site.code for site, _ in _sites()]
        locations = Location.objects.filter(code__in=codes).values_list("pk", "country")
        existing = set(LocationClosedDay.objects.values_list("location_id", "date"))
        missing = [
            LocationClosedDay(location_id=pk, date=day, reason="Public holiday")
            for pk, country in locations
            for y in (year, year + 1)
            for month, dom in HOLIDAYS.get(country, [])
            if (pk, day := date(y, month, dom)) not in existing
        ]
        LocationClosedDay.objects.bulk_create(missing, batch_size=1000)
        return len(missing)
