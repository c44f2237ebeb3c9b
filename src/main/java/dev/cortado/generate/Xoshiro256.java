package dev.cortado.generate;

/**
 * The PRNG behind seeded sampling: xoshiro256** 1.0 (Blackman and Vigna), its 256-bit state filled by SplitMix64
 * from {@code seed ^ (stream * 0x9E3779B97F4A7C15)}. {@link #nextDouble()} is the top 53 bits of the next output
 * times 2^-53. Plain integer arithmetic, so the same seed and stream give the same numbers on every JVM and engine.
 */
public final class Xoshiro256 {
    private long s0, s1, s2, s3;

    public Xoshiro256(long seed, long stream) {
        long x = seed ^ (stream * 0x9E3779B97F4A7C15L);
        long[] s = new long[4];
        for (int i = 0; i < 4; i++) {
            x += 0x9E3779B97F4A7C15L;
            long z = x;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            s[i] = z ^ (z >>> 31);
        }
        s0 = s[0]; s1 = s[1]; s2 = s[2]; s3 = s[3];
    }

    public long nextLong() {
        long result = Long.rotateLeft(s1 * 5, 7) * 9;
        long t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = Long.rotateLeft(s3, 45);
        return result;
    }

    /** Uniform in [0, 1). */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }
}
