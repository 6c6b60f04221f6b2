"""Business logic: plain functions with keyword-only arguments that own their commits."""
