"""The desk's languages, defined once (settings.LANGUAGES: Dutch, French, English): the codes
every check and loop uses, and their names in the reader's language."""

from django.conf import settings

CODES = tuple(code for code, _name in settings.LANGUAGES)


def names():
    """code -> the language's name, translated when shown ("Néerlandais" to a French reader)."""
    return dict(settings.LANGUAGES)
