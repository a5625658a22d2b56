"""geoplatform: plugin-based web GIS of the residential compounds (小区) of 昆都仑区, Baotou."""

__version__ = "0.1.0"
