class InputError(Exception):
    """Bad input or usage. The CLI prints the message on one line and exits 2."""
