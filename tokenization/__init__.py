"""ABC reading, normalisation, MeasureNote feature rows and the `AbcTokenizer`."""

# users import the modules (`tokenization.tokenization_abc`), nothing from the package itself
__all__: list[str] = []
