"""/v1/admin/documents: the documents retrieval searches: list, add, remove, search (admin
keys only)."""
