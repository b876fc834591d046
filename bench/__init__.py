"""Benchmarks: measurement harnesses run by `make bench`, never by `make test`.

The top of the layering: a benchmark may import anything (the app, the domains, the client),
and nothing imports it, so that no domain package depends on the HTTP layer to be measured.
The routing benchmarks stay in `routing/` because they need nothing but `routing/` itself.
"""
