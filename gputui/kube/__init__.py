"""Cluster access: kubeconfig and credentials (config), a raw-bytes client (client), the
one-pass gatherer (gather), friendly errors (errors), snapshot files (snapshot_file),
manifest files and dumps read into objects (manifests), and the patch engine (patch)."""
