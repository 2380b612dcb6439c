"""symoe control plane: settings, experts, recruiting, scheduling, persistence, CLI."""
