"""Skills: tagging prompts and parsing, the skill vocabulary and its embeddings, expert profiles."""
