"""The library's version (a leaf module: every file deeprecipe writes records it)."""

__version__ = "0.1.0"
