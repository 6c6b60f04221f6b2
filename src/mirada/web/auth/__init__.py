"""Registration, sign-in, sign-out and forgotten passwords."""
