"""The signed-in user's own account: profile, language, password, deletion."""
