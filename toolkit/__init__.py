"""toolkit: an Azure API Management AI gateway as code, and proof that it behaves as configured."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
