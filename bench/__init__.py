"""Benchmarks: the Nexmark command (`python -m bench.nexmark`), its CSV generator
(`python -m bench.nexmark_gen`) and plain-Python reference loops."""
