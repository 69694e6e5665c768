"""MinHash near-duplicate removal: shingling and signatures (minhash, kernels), banded LSH and
verification (lsh, lsh_kernels, blocks), clusters and train/test overlap (clusters), the
`datacheck dedup` command (command, config) and the Ray Data engine (ray_engine, ray_blocks,
ray_stages). Import the submodules directly; this package exports nothing itself."""
