"""sis_imports: the domain package shared by every sis-imports Lambda, the tests and the CLI."""

__version__ = "0.1.0"
