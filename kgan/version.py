"""The version of kgan; modules that record it import it from here, never the package root."""

__version__ = "0.1.0"
