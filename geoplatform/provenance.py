"""Where rows come from (their `source`): the value that marks the synthetic demo's rows.

`geoplatform demo` replaces the rows whose source starts with DEMO_SOURCE without asking (they are its own); the
importer never records it for a row it writes (io/writer.py), so imported work never passes for demo data.
"""

DEMO_SOURCE = "synthetic demo"
