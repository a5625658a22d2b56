"""Ratio benchmarks: the product against a named peer on the same data, on a 1× / 10× / 100× ladder."""
