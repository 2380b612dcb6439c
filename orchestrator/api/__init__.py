"""The REST API (`symoe serve`): one folder per feature, each with schemas (wire models),
service (built once at start-up) and routes (thin handlers). `create_app` wires them."""
