"""The start page and the language switcher."""
