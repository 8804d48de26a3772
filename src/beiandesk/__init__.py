"""beiandesk — ICP filing service platform."""

__version__ = "0.1.0"
