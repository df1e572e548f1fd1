"""Example services built with pygokit; each has an end-to-end test under tests/examples."""
