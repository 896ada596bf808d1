"""Province, territory and state names as French and Spanish speakers write them.

English names live in bot.services.regions' table. Each name here is also accepted when typed.
"""

from __future__ import annotations

# "COUNTRY-CODE": (French, Spanish)
NAMES: dict[str, tuple[str, str]] = {
    # Canada: the provinces and territories.
    "CA-AB": ("Alberta", "Alberta"),
    "CA-BC": ("Colombie-Britannique", "Columbia Británica"),
    "CA-MB": ("Manitoba", "Manitoba"),
    "CA-NB": ("Nouveau-Brunswick", "Nuevo Brunswick"),
    "CA-NL": ("Terre-Neuve-et-Labrador", "Terranova y Labrador"),
    "CA-NS": ("Nouvelle-Écosse", "Nueva Escocia"),
    "CA-NT": ("Territoires du Nord-Ouest", "Territorios del Noroeste"),
    "CA-NU": ("Nunavut", "Nunavut"),
    "CA-ON": ("Ontario", "Ontario"),
    "CA-PE": ("Île-du-Prince-Édouard", "Isla del Príncipe Eduardo"),
    "CA-QC": ("Québec", "Quebec"),
    "CA-SK": ("Saskatchewan", "Saskatchewan"),
    "CA-YT": ("Yukon", "Yukón"),
    # The United States: the fifty states and the District of Columbia.
    "US-AL": ("Alabama", "Alabama"),
    "US-AK": ("Alaska", "Alaska"),
    "US-AZ": ("Arizona", "Arizona"),
    "US-AR": ("Arkansas", "Arkansas"),
    "US-CA": ("Californie", "California"),
    "US-CO": ("Colorado", "Colorado"),
    "US-CT": ("Connecticut", "Connecticut"),
    "US-DE": ("Delaware", "Delaware"),
    "US-DC": ("District de Columbia", "Distrito de Columbia"),
    "US-FL": ("Floride", "Florida"),
    "US-GA": ("Géorgie", "Georgia"),
    "US-HI": ("Hawaï", "Hawái"),
    "US-ID": ("Idaho", "Idaho"),
    "US-IL": ("Illinois", "Illinois"),
    "US-IN": ("Indiana", "Indiana"),
    "US-IA": ("Iowa", "Iowa"),
    "US-KS": ("Kansas", "Kansas"),
    "US-KY": ("Kentucky", "Kentucky"),
    "US-LA": ("Louisiane", "Luisiana"),
    "US-ME": ("Maine", "Maine"),
    "US-MD": ("Maryland", "Maryland"),
    "US-MA": ("Massachusetts", "Massachusetts"),
    "US-MI": ("Michigan", "Míchigan"),
    "US-MN": ("Minnesota", "Minnesota"),
    "US-MS": ("Mississippi", "Misisipi"),
    "US-MO": ("Missouri", "Misuri"),
    "US-MT": ("Montana", "Montana"),
    "US-NE": ("Nebraska", "Nebraska"),
    "US-NV": ("Nevada", "Nevada"),
    "US-NH": ("New Hampshire", "Nuevo Hampshire"),
    "US-NJ": ("New Jersey", "Nueva Jersey"),
    "US-NM": ("Nouveau-Mexique", "Nuevo México"),
    "US-NY": ("New York", "Nueva York"),
    "US-NC": ("Caroline du Nord", "Carolina del Norte"),
    "US-ND": ("Dakota du Nord", "Dakota del Norte"),
    "US-OH": ("Ohio", "Ohio"),
    "US-OK": ("Oklahoma", "Oklahoma"),
    "US-OR": ("Oregon", "Oregón"),
    "US-PA": ("Pennsylvanie", "Pensilvania"),
    "US-RI": ("Rhode Island", "Rhode Island"),
    "US-SC": ("Caroline du Sud", "Carolina del Sur"),
    "US-SD": ("Dakota du Sud", "Dakota del Sur"),
    "US-TN": ("Tennessee", "Tennessee"),
    "US-TX": ("Texas", "Texas"),
    "US-UT": ("Utah", "Utah"),
    "US-VT": ("Vermont", "Vermont"),
    "US-VA": ("Virginie", "Virginia"),
    "US-WA": ("Washington", "Washington"),
    "US-WV": ("Virginie-Occidentale", "Virginia Occidental"),
    "US-WI": ("Wisconsin", "Wisconsin"),
    "US-WY": ("Wyoming", "Wyoming"),
}


def localized(country: str, code: str) -> tuple[tuple[str, str], ...]:
    """The region's (language, name) pairs beyond English; none for a region not listed."""
    found = NAMES.get(f"{country}-{code}")
    return (("fr", found[0]), ("es", found[1])) if found else ()
