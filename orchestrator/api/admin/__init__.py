"""/v1/admin: experts, profile sets, API keys and recruitment statistics (admin keys only)."""
