"""/v1/workflows: agent-team workflows over the API: list the workflow files, start a run
(executed in the background, in this process), read it, follow its progress as server-sent
events, download its artifacts."""
