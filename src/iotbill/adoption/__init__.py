"""Population models of adoption (Easley and Kleinberg, Networks, Crowds, and Markets).

Owns: information cascades (herding), threshold cascades on networks, small-world
networks, seed selection and revenue forecasts. Imports only the pure domain;
never storage or transport. Randomness is always a ``numpy.random.Generator``
passed in.
"""
