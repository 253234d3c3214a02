"""The tunes and the `tokenizer` fixture (trained on them) shared by the AbcTokenizer tests
(test_tokenization_abc*.py; import the fixture as abc_tokenizer)."""

from __future__ import annotations

import pytest

from tokenization.tokenization_abc import AbcTokenizer

KESH = """X:1
T:The Kesh
R:jig
M:6/8
L:1/8
K:G
|:GAG GAB|ABA ABd|edd gdd|edB dBA|
GAG GAB|ABA ABd|edd gdB|1 AGF G2D:|2 AGF G2B||
|:d2e fef|gfe fed|(3Bcd B AGA|B2A G2B:|
"""


DORIAN_REEL = """X:2
T:Cooley's
R:reel
M:4/4
L:1/8
K:Edor
|:D2|EB{c}BA B2 EB|~B2 AB dBAG|FDAD BDAD|FDAD dAFD|
EBBA B2 EB|B2 AB defg|afeb afdB|1 AFDF E2:|2 AFDF E3||
"""


MINOR_WITH_CHORD = """X:3
T:Chords and rests
M:3/4
L:1/4
K:Bm
"Bm"B3/2 c/ d|[FA]2 z|^A/B/ c (3B/c/d/|e>f g|g<a b|b3|]
"""


TUNES = [KESH, DORIAN_REEL, MINOR_WITH_CHORD]


@pytest.fixture(scope="module", name="tokenizer")
def abc_tokenizer() -> AbcTokenizer:
    return AbcTokenizer.train(TUNES)
