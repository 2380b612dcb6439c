"""Batch jobs: POST /v1/jobs takes many questions and returns at once; a background executor
answers them in chunks, with all state in the database (so jobs survive a restart)."""
