"""engine/shard.hpp's partition, implemented a second time from its specification, for the tests that check
which accounts each `--shard K/N` took (shard_cli_test.py, slurm_shards_test.py)."""


def shard_of(address, n):
    """FNV-1a 64 of the ASCII-lower-cased address, then jump consistent hash into n buckets."""
    h = 14695981039346656037
    for b in address.encode():
        h = ((h ^ (b + 32 if 65 <= b <= 90 else b)) * 1099511628211) % 2**64
    b, j = -1, 0
    while j < n:
        b = j
        h = (h * 2862933555777941757 + 1) % 2**64
        j = int((b + 1) * (float(1 << 31) / float((h >> 33) + 1)))
    return b
