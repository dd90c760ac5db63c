"""lockerhub: an integration hub between transport management systems and parcel locker networks."""

__version__ = "0.1.0"
