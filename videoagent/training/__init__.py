"""Training and benchmark helpers: fit loops, manifests, order benchmarks. Never imported at run time."""
