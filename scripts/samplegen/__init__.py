"""The synthetic Minhang sample's generator, in the order it builds the city (`scripts/make_sample.py` runs it)."""
