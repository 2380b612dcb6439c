"""Clients of a running symoe server. `orchestrator.clients.langchain.ChatSymoe` is a
LangChain chat model (it needs langchain-core, so it is imported from its module, not here)."""
