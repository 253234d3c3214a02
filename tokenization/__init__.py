"""ABC reading, normalisation, MeasureNote feature rows and the `AbcTokenizer`."""
