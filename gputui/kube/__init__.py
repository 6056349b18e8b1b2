"""Cluster access: kubeconfig and credentials (config), a raw-bytes client (client), the
one-pass gatherer (gather), friendly errors (errors), snapshot files (snapshot_file)."""
