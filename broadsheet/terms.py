"""Search terms of a text: folded, without stop words; shared by the build's workers and the search index."""

from __future__ import annotations

import re
import unicodedata
from html import unescape

STOPWORDS = frozenset("""a about after again against all also am an and any are as at be because been before being
between both but by can could did do does doing down during each few for from further had has have having he her
here hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or
other our ours out over own same she should so some such than that the their theirs them then there these they
this those through to too under until up very was we were what when where which while who whom why will with
would you your yours said says""".split())


def words(text: str) -> set[str]:
    """The lowercase search terms of text: stop words and one- or two-letter words left out."""
    # (a tag begins with a letter, / or !: a '<' in a plain-text headline, "inflation < 3%", is a word's neighbour)
    text = unicodedata.normalize("NFKC", unescape(re.sub(r"<[A-Za-z/!?][^>]*>", " ", text))).casefold()
    text = re.sub(r"(?<=\w)['’.,](?=\w)", "", text)
    return {w for w in set(re.findall(r"\w+", text)) - STOPWORDS if len(w) > 2 or w.isdigit() and len(w) == 2}
