"""Provinces, states and their IANA time zones (checked against tzdata's zone1970.tab)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Region:
    country: str
    code: str
    name: str
    zones: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    # A city of this region on each zone whose example city lies elsewhere: tzdata names
    # Atikokan's clock "Panama" and Creston's "Phoenix", which no one in Ontario or BC recognises.
    cities: tuple[tuple[str, str], ...] = ()

    def city_of(self, zone: str) -> str | None:
        """The region's own city on this zone, when the zone's example city is not in it."""
        return dict(self.cities).get(zone)


def _r(country: str, code: str, name: str, zones: str, aliases: str = "") -> Region:
    """`zones`: space-separated IANA keys, each optionally `=City_Name` (underscore = space)."""
    keys, cities = [], []
    for item in zones.split():
        key, _, city = item.partition("=")
        keys.append(key)
        if city:
            cities.append((key, city.replace("_", " ")))
    return Region(
        country,
        code,
        name,
        tuple(keys),
        tuple(alias.strip() for alias in aliases.split(",") if alias.strip()),
        tuple(cities),
    )


_E, _C, _M, _P = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"

REGIONS: tuple[Region, ...] = (
    _r("CA", "AB", "Alberta", "America/Edmonton"),
    _r(
        "CA",
        "BC",
        "British Columbia",
        "America/Vancouver America/Edmonton=Cranbrook America/Dawson_Creek America/Fort_Nelson "
        "America/Phoenix=Creston",
        "Colombie-Britannique, Columbia Británica",
    ),
    _r("CA", "MB", "Manitoba", "America/Winnipeg"),
    _r("CA", "NB", "New Brunswick", "America/Moncton", "Nouveau-Brunswick, Nuevo Brunswick"),
    _r(
        "CA",
        "NL",
        "Newfoundland and Labrador",
        "America/St_Johns America/Goose_Bay",
        "Terre-Neuve-et-Labrador, Terranova y Labrador",
    ),
    _r("CA", "NS", "Nova Scotia", "America/Halifax", "Nouvelle-Écosse, Nueva Escocia"),
    _r(
        "CA",
        "NT",
        "Northwest Territories",
        "America/Edmonton=Yellowknife America/Inuvik",
        "Territoires du Nord-Ouest, Territorios del Noroeste",
    ),
    _r("CA", "NU", "Nunavut", "America/Iqaluit America/Rankin_Inlet America/Cambridge_Bay"),
    _r(
        "CA",
        "ON",
        "Ontario",
        "America/Toronto America/Winnipeg=Kenora America/Panama=Atikokan",
    ),
    _r(
        "CA",
        "PE",
        "Prince Edward Island",
        "America/Halifax=Charlottetown",
        "Île-du-Prince-Édouard, Isla del Príncipe Eduardo",
    ),
    _r("CA", "QC", "Quebec", "America/Toronto=Montréal America/Puerto_Rico=Blanc-Sablon", "Québec"),
    _r(
        "CA",
        "SK",
        "Saskatchewan",
        "America/Regina America/Swift_Current America/Edmonton=Lloydminster",
    ),
    _r("CA", "YT", "Yukon", "America/Whitehorse America/Dawson"),
    _r("US", "AL", "Alabama", _C),
    _r("US", "AK", "Alaska", "America/Anchorage America/Adak"),
    _r("US", "AZ", "Arizona", "America/Phoenix America/Denver=Window_Rock"),
    _r("US", "AR", "Arkansas", _C),
    _r("US", "CA", "California", _P),
    _r("US", "CO", "Colorado", _M),
    _r("US", "CT", "Connecticut", _E),
    _r("US", "DE", "Delaware", _E),
    _r(
        "US",
        "DC",
        "District of Columbia",
        _E,
        "Washington DC, Washington D.C., Distrito de Columbia, District de Columbia",
    ),
    _r("US", "FL", "Florida", f"{_E}=Miami {_C}=Pensacola", "Floride"),
    _r("US", "GA", "Georgia", _E, "Géorgie"),
    _r("US", "HI", "Hawaii", "Pacific/Honolulu", "Hawái, Hawaï"),
    _r("US", "ID", "Idaho", f"America/Boise {_P}=Coeur_d'Alene"),
    _r("US", "IL", "Illinois", _C),
    _r("US", "IN", "Indiana", f"America/Indiana/Indianapolis {_C}=Gary"),
    _r("US", "IA", "Iowa", _C),
    _r("US", "KS", "Kansas", f"{_C}=Wichita {_M}=Goodland"),
    _r("US", "KY", "Kentucky", f"{_E}=Louisville {_C}=Bowling_Green"),
    _r("US", "LA", "Louisiana", _C, "Luisiana, Louisiane"),
    _r("US", "ME", "Maine", _E),
    _r("US", "MD", "Maryland", _E),
    _r("US", "MA", "Massachusetts", _E),
    _r("US", "MI", "Michigan", "America/Detroit America/Menominee", "Míchigan"),
    _r("US", "MN", "Minnesota", _C),
    _r("US", "MS", "Mississippi", _C, "Misisipi"),
    _r("US", "MO", "Missouri", _C, "Misuri"),
    _r("US", "MT", "Montana", _M),
    _r("US", "NE", "Nebraska", f"{_C}=Omaha {_M}=North_Platte"),
    _r("US", "NV", "Nevada", _P),
    _r("US", "NH", "New Hampshire", _E, "Nuevo Hampshire"),
    _r("US", "NJ", "New Jersey", _E, "Nueva Jersey"),
    _r("US", "NM", "New Mexico", _M, "Nuevo México, Nouveau-Mexique"),
    _r("US", "NY", "New York", _E, "Nueva York, État de New York"),
    _r("US", "NC", "North Carolina", _E, "Carolina del Norte, Caroline du Nord"),
    _r(
        "US",
        "ND",
        "North Dakota",
        f"{_C}=Bismarck {_M}=Dickinson",
        "Dakota del Norte, Dakota du Nord",
    ),
    _r("US", "OH", "Ohio", _E),
    _r("US", "OK", "Oklahoma", _C),
    _r("US", "OR", "Oregon", f"{_P}=Portland America/Boise=Ontario", "Oregón"),
    _r("US", "PA", "Pennsylvania", _E, "Pensilvania, Pennsylvanie"),
    _r("US", "RI", "Rhode Island", _E),
    _r("US", "SC", "South Carolina", _E, "Carolina del Sur, Caroline du Sud"),
    _r(
        "US",
        "SD",
        "South Dakota",
        f"{_C}=Sioux_Falls {_M}=Rapid_City",
        "Dakota del Sur, Dakota du Sud",
    ),
    _r("US", "TN", "Tennessee", f"{_C}=Nashville {_E}=Knoxville", "Tennesse"),
    _r("US", "TX", "Texas", f"{_C}=Houston {_M}=El_Paso", "Tejas"),
    _r("US", "UT", "Utah", _M),
    _r("US", "VT", "Vermont", _E),
    _r("US", "VA", "Virginia", _E, "Virginie"),
    _r("US", "WA", "Washington", _P, "Washington State, État de Washington"),
    _r("US", "WV", "West Virginia", _E, "Virginia Occidental, Virginie-Occidentale"),
    _r("US", "WI", "Wisconsin", _C),
    _r("US", "WY", "Wyoming", _M),
)

COUNTRIES = ("CA", "US")
COUNTRY_NAMES = {
    "CA": ("ca", "canada", "canadá"),
    "US": (
        "us",
        "usa",
        "eua",
        "eeuu",
        "ee uu",
        "united states",
        "united states of america",
        "estados unidos",
        "etats unis",
        "états unis",
        "états-unis",
    ),
}


def find_country(typed: str) -> str | None:
    """A typed country name or code in any of our languages."""
    wanted = _fold(typed)
    for code, names in COUNTRY_NAMES.items():
        if any(_fold(name) == wanted for name in names):
            return code
    return None


def _fold(text: str) -> str:
    """Case- and accent-insensitive form for matching typed names."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(letters.replace(".", " ").replace("-", " ").split())


def regions_of(country: str) -> list[Region]:
    return [region for region in REGIONS if region.country == country]


def region(country: str, code: str) -> Region | None:
    for candidate in REGIONS:
        if candidate.country == country and candidate.code == code:
            return candidate
    return None


def find_region(country: str, typed: str) -> Region | None:
    """Match a typed 2-letter code or a name (any of our languages) within one country."""
    wanted = _fold(typed)
    if not wanted:
        return None
    for candidate in regions_of(country):
        names = (candidate.code, candidate.name, *candidate.aliases)
        if any(_fold(name) == wanted for name in names):
            return candidate
    return None


def zone_label(zone: str) -> str:
    """A short human name for an IANA zone: its last path element."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def local_time(zone: str, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(zone))
