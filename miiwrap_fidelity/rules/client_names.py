"""
What counts as a person's name for the identifier check (``privacy``): first names and surnames
from Faker's person providers (a names gazetteer that installs with the package from the package
index and reads nothing from the network), less the names that are also ordinary words of coaching
notes. ``alternation`` turns a list into a compact regular expression for the patterns ``privacy``
serves to the browser. See docs/decisions/0021-client-names-from-a-gazetteer.rst.
"""
import functools
import importlib
import re
import unicodedata
from collections.abc import Iterable
from typing import Any


def without_accents(text: str) -> str:
    """
    ``text`` without its diacritics ("José" → "Jose"), as ``privacy.normalized`` reads a note.

    Args:
        text: any text.

    Returns:
        The text, decomposed (NFD), without its combining marks.
    """
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _words(text: str) -> frozenset[str]:
    return frozenset(without_accents(text).split())


#: Faker's person providers read: the agencies' two languages, with Mexico's names beside Spain's.
LOCALES = ("en_US", "es_ES", "es_MX")

#: Capitalised words of coaching notes that are not names: sentence openers, place prefixes, indicator
#: and meeting vocabulary, Wraparound roles, origins and faiths, months and weekdays. Never in a name
#: list, and not taken for a name after a role word ("Family Vision", "Youth Voice") or before a surname.
NOT_NAMES = _words("""
    The This That These Those Each Every Whole Our Their His Her Its One Another Extended Foster Same
    Both All Some Most Many Any Next Last First Second Third New Old And But With For From After Before
    During When Then Also Please Used Asked Great Good Strong Clear Open Closed Complex Simple Reflective
    Reflection Reflections Listening Questions Question Affirmations Summaries Summary Change Talk Team
    Meeting Meetings Family Families Youth Child Children Parent Parents Mother Father Vision Voice Choice
    Plan Planning Safety Natural Supports Support Strengths Strength Needs Services Service
    Outcomes Progress Goals Goal Agenda Action Items Follow Session Visit Home School Court Care Center
    Centre Program Community Department Unit Week Day Break Autonomy Empathy Partnership Collaboration
    Evoking Elicit Provide Persuade Persuasion Confront Affirm Giving Information Emphasizing Balanced
    Participation Creative Option Measurable Transition Readiness Global Overall Score Spanish English
    Motivational Interviewing Wraparound Street Avenue Road Lane Drive Boulevard Partner Partners Advocate
    Coach Facilitator Coordinator Specialist Worker Therapist Peer Mentor Navigator Liaison Finding
    Preservation Reunification Group Conference Night Black White Latino Latina Latinx Hispanic
    Native Indigenous Asian African American Mexican Muslim Christian Catholic Jewish Hmong Somali
    El La Los Las Lo Un Una Del De Esta Este Estas Estos Cada Toda Todo Todos Nuestra Nuestro Su Sus
    En Con Por Para Pero Cuando Después Antes Durante Luego Buen Buena Escucha Reflexiva Reflexiones
    Preguntas Abiertas Afirmaciones Resúmenes Equipo Reunión Familia Familiar Joven Madre Padre Visión
    Voz Elección Crisis Seguridad Apoyo Apoyos Naturales Fortalezas Necesidades Servicios Sociales
    Resultados Progreso Metas Sesión Visita Hogar Escuela Colegio Centro Salud Programa Comunidad
    Semana Santa Santo San Puerto Nuevo Nueva Navidad Día Calle Avenida Plaza Paseo Camino
    January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday Christmas Thanksgiving Easter
    Enero Febrero Marzo Abril Mayo Junio Julio Agosto Septiembre Octubre Noviembre Diciembre
    Lunes Martes Miércoles Jueves Viernes Sábado Domingo
""") - {"Julio"}  # a month only in lower case in Spanish, and a common first name

#: First names that are ordinary words, places or holidays in a note ("Grace period", "Mark the
#: plan", "Summer Break", "Cruz Roja", "Día de Reyes").
COMMON_FIRST_NAMES = _words("""
    Angel Ángel Bill Chase Crystal Dakota Don Drew Faith Frank Grace Grant Guy Hunter Jesus Joy Mark Max
    Raven Rose Savannah Sierra Summer Autumn Austin Virginia Israel América Alba Amor Amparo Angustias
    Caridad Che Concepción Consuelo Corona Cruz Dolores Esperanza Fe Gracia Guadalupe Luz Mar Milagros
    Natividad Pastor Paz Piedad Reina Remedios Reyes Rosario Santos Socorro Sol Soledad Trinidad Victoria
""")

#: Surnames that are ordinary words, mostly beside "family"/"familia" ("the young family", "una familia
#: segura") or after a capitalised word ("Open House", "Puerto Rico").
COMMON_SURNAMES = _words("""
    Ball Best Blanca Bright Case Church Company French Glass Golden Gray Green Hope House Key Little Long
    Love Noble Page Price Real Rich Savage Short Small Snow Wall West Wise Young Grande Segura Sola Nieto
    Sobrino Rico Alegre Bueno Blanco Leal Malo Iglesia Campo Puerta Mesa Sala Rey Cabeza Cabo Armas Cámara
    España Español Madrid Luz Paz Amor Amores Casado Chico Criado Mercado Pastor Corona
""")


def _gazetteer(attribute: str, excluded: frozenset[str]) -> frozenset[str]:
    """The words of Faker's ``attribute`` lists (a multi-word name split), as the patterns read them."""
    names: set[str] = set()
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for name in getattr(provider, attribute):  # a tuple, or a dict of weights in en_US
            names.update(without_accents(word) for word in name.split())
    # Capitalised words of letters only ("de la Garza" gives "Garza"; "Jo", "Ed" are too short to tell).
    names = {word for word in names if re.fullmatch("[A-Z][a-z]{2,}", word)}
    return frozenset(names - excluded - NOT_NAMES)


@functools.cache
def first_names() -> frozenset[str]:
    """
    The first names the identifier check knows (read from Faker once).

    Returns:
        Capitalised first names without accents, less ``COMMON_FIRST_NAMES`` and ``NOT_NAMES``.
    """
    return _gazetteer("first_names", COMMON_FIRST_NAMES)


@functools.cache
def surnames() -> frozenset[str]:
    """
    The surnames the identifier check knows (read from Faker once).

    Returns:
        Capitalised surnames without accents, less ``COMMON_SURNAMES`` and ``NOT_NAMES``.
    """
    return _gazetteer("last_names", COMMON_SURNAMES)


def alternation(words: Iterable[str], either_case_initial: bool = False) -> str:
    """
    A regular expression matching exactly ``words`` (letters only), shaped as a trie
    (``Ana(?:bel|is)?``), so a regex engine tries one branch per letter instead of every word in
    turn, and the source the browser receives stays small. Python ``re`` and JavaScript read it alike.

    Args:
        words: the words to match.
        either_case_initial: a word's first letter matches in either case ("gonzalez", "Gonzalez").

    Returns:
        The regular expression's source (empty when there are no words).
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for letter in word:
            node = node.setdefault(letter, {})
        node[""] = {}
    return _trie_source(trie, either_case_initial)


def _trie_source(node: dict[str, Any], either_case: bool = False) -> str:
    # Letters followed by the same rest share a character class: "[ao]", "E[lv]a" rather than "a|o", "Ela|Eva".
    rests: dict[str, list[str]] = {}
    for letter, child in sorted(node.items()):
        if letter:
            rests.setdefault(_trie_source(child), []).extend({letter, letter.lower()} if either_case else letter)
    branches = sorted((letters[0] if len(letters) == 1 else f"[{''.join(sorted(letters))}]") + rest
                      for rest, letters in rests.items())
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    if "" not in node:
        return body
    atomic = len(branches) > 1 or len(body) == 1 or re.fullmatch(r"\[[^\]]*\]", body)
    return f"{body}?" if atomic else f"(?:{body})?"
