"""symoe data plane: LLM backends and the model pool. Knows prompts and models, never skills."""
