"""POST /v1/answers: one question in, the final answer and its full trace out."""
