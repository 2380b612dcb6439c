"""OpenAI-compatible endpoints: POST /v1/chat/completions (whole or streamed) and
GET /v1/models, so the official SDKs and LangChain talk to symoe as to any OpenAI server."""
