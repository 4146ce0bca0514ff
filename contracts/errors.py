"""The project's root exception; every package raises subclasses of it."""


class BoxofficeError(Exception):
    """Base of every error boxoffice raises on purpose, with a message a user can act on."""
