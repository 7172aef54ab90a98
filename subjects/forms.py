from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.models import ONE_LINE, limited_text

from .models import BODY_LENGTH, LANGUAGES, SUBJECT_LENGTH
from .texts import GREETING


class TextsForm(forms.Form):
    """The message in each language: a subject and the text under each person's greeting."""

    def __init__(self, *args, texts=None, **kwargs):
        super().__init__(*args, **kwargs)
        for language, name in LANGUAGES:
            written = (texts or {}).get(language, {})
            self.fields[f"subject_{language}"] = forms.CharField(
                label=_("Subject (%(language)s)") % {"language": name},
                max_length=SUBJECT_LENGTH,
                validators=ONE_LINE,
                initial=written.get("subject", ""),
            )
            self.fields[f"body_{language}"] = forms.CharField(
                label=_("Text (%(language)s)") % {"language": name},
                max_length=BODY_LENGTH,
                validators=limited_text(BODY_LENGTH),
                widget=forms.Textarea(attrs={"rows": 16, "lang": language}),
                initial=written.get("body", ""),
                help_text=_(
                    "Clear and plain language (GDPR art. 34(2)): what happened, the DPO's "
                    "contact, the likely consequences, the measures, what people can do. "
                    "Each person's greeting comes above it, the signature under it."
                ),
            )

    def clean(self):
        cleaned = super().clean()
        for language, _name in LANGUAGES:
            if GREETING in cleaned.get(f"body_{language}", ""):
                self.add_error(f"body_{language}", _("The text may not contain “-greeting-”."))
        return cleaned

    def texts(self):
        return {
            language: {
                "subject": self.cleaned_data[f"subject_{language}"],
                "body": self.cleaned_data[f"body_{language}"],
            }
            for language, _name in LANGUAGES
        }


class RecipientsForm(forms.Form):
    file = forms.FileField(
        label=_("People to inform (CSV)"),
        help_text=_(
            "A header line with email, name and language (nl, fr or en; empty: the "
            "controller's language). An address listed twice is kept once."
        ),
    )


class SendForm(forms.Form):
    delay_reason = forms.CharField(
        label=_("Reason for the delay"),
        required=False,
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed once the deadline for informing the data subjects has passed."),
    )
