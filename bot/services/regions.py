"""Provinces, states and their IANA time zones (checked against tzdata's zone1970.tab)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.services.region_names import localized


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
    # (language, name) where the name differs by language; English is `name`.
    names: tuple[tuple[str, str], ...] = ()

    def name_in(self, language: str) -> str:
        """The name a reader of this language knows: Québec, Nueva York, Caroline du Nord."""
        return dict(self.names).get(language, self.name)

    def city_of(self, zone: str) -> str | None:
        """The region's own city on this zone, when the zone's example city is not in it."""
        return dict(self.cities).get(zone)


def _r(country: str, code: str, name: str, zones: str, aliases: str = "") -> Region:
    """`zones`: space-separated IANA keys, each optionally `=City_Name` (underscore = space);
    `aliases`: other typed spellings, beyond the French and Spanish names (region_names)."""
    keys, cities = [], []
    for item in zones.split():
        key, _, city = item.partition("=")
        keys.append(key)
        if city:
            cities.append((key, city.replace("_", " ")))
    names = localized(country, code)
    # Every localized name is accepted when typed, besides the spellings listed here.
    typed = [alias.strip() for alias in aliases.split(",") if alias.strip()]
    typed += [shown for _, shown in names if shown not in (name, *typed)]
    return Region(country, code, name, tuple(keys), tuple(typed), tuple(cities), names)


_E, _C, _M, _P = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"

REGIONS: tuple[Region, ...] = (
    _r("CA", "AB", "Alberta", "America/Edmonton"),
    _r(
        "CA",
        "BC",
        "British Columbia",
        "America/Vancouver America/Edmonton=Cranbrook America/Dawson_Creek America/Fort_Nelson "
        "America/Phoenix=Creston",
    ),
    _r("CA", "MB", "Manitoba", "America/Winnipeg"),
    _r("CA", "NB", "New Brunswick", "America/Moncton"),
    _r("CA", "NL", "Newfoundland and Labrador", "America/St_Johns America/Goose_Bay"),
    _r("CA", "NS", "Nova Scotia", "America/Halifax"),
    _r("CA", "NT", "Northwest Territories", "America/Edmonton=Yellowknife America/Inuvik"),
    _r("CA", "NU", "Nunavut", "America/Iqaluit America/Rankin_Inlet America/Cambridge_Bay"),
    _r("CA", "ON", "Ontario", "America/Toronto America/Winnipeg=Kenora America/Panama=Atikokan"),
    _r("CA", "PE", "Prince Edward Island", "America/Halifax=Charlottetown"),
    _r("CA", "QC", "Quebec", "America/Toronto=Montréal America/Puerto_Rico=Blanc-Sablon"),
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
    _r("US", "DC", "District of Columbia", _E, "Washington DC, Washington D.C."),
    _r("US", "FL", "Florida", f"{_E}=Miami {_C}=Pensacola"),
    _r("US", "GA", "Georgia", _E),
    _r("US", "HI", "Hawaii", "Pacific/Honolulu"),
    _r("US", "ID", "Idaho", f"America/Boise {_P}=Coeur_d'Alene"),
    _r("US", "IL", "Illinois", _C),
    _r("US", "IN", "Indiana", f"America/Indiana/Indianapolis {_C}=Gary"),
    _r("US", "IA", "Iowa", _C),
    _r("US", "KS", "Kansas", f"{_C}=Wichita {_M}=Goodland"),
    _r("US", "KY", "Kentucky", f"{_E}=Louisville {_C}=Bowling_Green"),
    _r("US", "LA", "Louisiana", _C),
    _r("US", "ME", "Maine", _E),
    _r("US", "MD", "Maryland", _E),
    _r("US", "MA", "Massachusetts", _E),
    _r("US", "MI", "Michigan", "America/Detroit America/Menominee"),
    _r("US", "MN", "Minnesota", _C),
    _r("US", "MS", "Mississippi", _C),
    _r("US", "MO", "Missouri", _C),
    _r("US", "MT", "Montana", _M),
    _r("US", "NE", "Nebraska", f"{_C}=Omaha {_M}=North_Platte"),
    _r("US", "NV", "Nevada", _P),
    _r("US", "NH", "New Hampshire", _E),
    _r("US", "NJ", "New Jersey", _E),
    _r("US", "NM", "New Mexico", _M),
    _r("US", "NY", "New York", _E, "État de New York"),
    _r("US", "NC", "North Carolina", _E),
    _r("US", "ND", "North Dakota", f"{_C}=Bismarck {_M}=Dickinson"),
    _r("US", "OH", "Ohio", _E),
    _r("US", "OK", "Oklahoma", _C),
    _r("US", "OR", "Oregon", f"{_P}=Portland America/Boise=Ontario"),
    _r("US", "PA", "Pennsylvania", _E),
    _r("US", "RI", "Rhode Island", _E),
    _r("US", "SC", "South Carolina", _E),
    _r("US", "SD", "South Dakota", f"{_C}=Sioux_Falls {_M}=Rapid_City"),
    _r("US", "TN", "Tennessee", f"{_C}=Nashville {_E}=Knoxville", "Tennesse"),
    _r("US", "TX", "Texas", f"{_C}=Houston {_M}=El_Paso", "Tejas"),
    _r("US", "UT", "Utah", _M),
    _r("US", "VT", "Vermont", _E),
    _r("US", "VA", "Virginia", _E),
    _r("US", "WA", "Washington", _P, "Washington State, État de Washington"),
    _r("US", "WV", "West Virginia", _E),
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


def shown_regions(country: str, language: str) -> list[Region]:
    """A country's regions in the order a reader of the language looks for them: by their name."""
    return sorted(regions_of(country), key=lambda place: _fold(place.name_in(language)))


def place_name(key: str, language: str) -> str:
    """A stored 'CA-QC' as the reader's name of it (Québec); the key itself if unknown."""
    country, _, code = key.partition("-")
    found = region(country, code)
    return found.name_in(language) if found else key


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


def code_of(typed: str) -> str | None:
    """A typed province or state, "US-TX", "tx", "Texas" or "Québec", as its "US-TX" code (the
    first country that has it); None when it is none we know."""
    text = typed.strip()
    prefix, dash, code = text.upper().partition("-")
    if dash and prefix in COUNTRIES:
        found = region(prefix, code)
        return f"{found.country}-{found.code}" if found else None
    for country in COUNTRIES:
        if (found := find_region(country, text)) is not None:
            return f"{found.country}-{found.code}"
    return None


def zone_label(zone: str) -> str:
    """A short human name for an IANA zone: its last path element."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def local_time(zone: str, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(zone))
