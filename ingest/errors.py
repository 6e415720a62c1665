"""The one error type of bad input, whatever reads it (a file, an archive's response)."""


class IngestError(Exception):
    """Bad input or a failed load or fetch, worded for the user; the CLI prints it and exits 2."""
