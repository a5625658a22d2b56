"""Import and export of files: formats, coordinate systems, validation, reports."""

# Load GDAL (pyogrio's bundled libraries) before any SpatiaLite connection: SQLite's load_extension dlopens
# mod_spatialite with RTLD_GLOBAL, which puts the system libsqlite3/libproj in the global symbol scope; a GDAL
# loaded afterwards binds to those and crashes writing GeoPackages. Loaded first, GDAL keeps its own.
import pyogrio  # noqa: F401
