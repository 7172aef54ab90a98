"""Django's own words that reach people here and that its French catalogue lacks (its Dutch one
has them): in our catalogues, a French reader never gets them in Dutch, the fallback language
(LANGUAGE_CODE). Never called; `makemessages` reads them."""

from django.utils.translation import gettext_noop, ngettext_lazy

WORDS = [
    gettext_noop("Are you sure?"),
    gettext_noop("Enter a username and password."),
    gettext_noop(
        "First, enter a username and password. Then, you’ll be able to edit more user options."
    ),
    gettext_noop("Your username, in case you’ve forgotten:"),
]
PASSWORD_TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %(min_length)d character.",
    "This password is too short. It must contain at least %(min_length)d characters.",
    "min_length",
)
