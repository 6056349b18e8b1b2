"""A simulated Kubernetes API server with GPU scenarios (`gputui sim`, `gputui demo`)."""
