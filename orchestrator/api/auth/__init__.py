"""API keys (hashed, with roles) and the per-key rate limit."""
