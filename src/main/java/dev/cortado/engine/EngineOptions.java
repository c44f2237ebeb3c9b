package dev.cortado.engine;

import dev.cortado.CortadoException;

/**
 * Serving-engine knobs. {@code kvMemoryBytes}: size of the one paged KV pool (0 = room for 64 full-context
 * sequences, at most 1 GiB). {@code tokenBudget}: tokens one scheduler iteration computes (each running sequence's
 * decode token first, prompt chunks fill the rest, so a long prompt does not stall running decodes).
 * {@code gatherMicros}: how long an iteration waits for running sequences to bring their next token before it
 * starts without them. {@code prefixSharing}: reuse KV blocks of prompts that share a prefix.
 */
public record EngineOptions(long kvMemoryBytes, int tokenBudget, int gatherMicros, boolean prefixSharing, int kvSequences) {
    public EngineOptions {
        if (kvMemoryBytes < 0) throw new CortadoException("kv memory must be ≥ 0 bytes, got " + kvMemoryBytes);
        if (kvSequences < 1) throw new CortadoException("kv sequences must be ≥ 1, got " + kvSequences);
        if (tokenBudget < 1) throw new CortadoException("token budget per step must be ≥ 1, got " + tokenBudget);
        if (gatherMicros < 0) throw new CortadoException("gather time must be ≥ 0 µs, got " + gatherMicros);
    }

    /** KV pool for 64 full-context sequences (at most 1 GiB), 256 tokens per step, 2 ms gather, prefix sharing on. */
    public static EngineOptions defaults() {
        return new EngineOptions(0, 256, 2000, true, 64);
    }

    /** A KV pool of {@code bytes} (see {@link #parseBytes} for "2g"-style sizes). */
    public EngineOptions kvMemory(long bytes) {
        return new EngineOptions(bytes, tokenBudget, gatherMicros, prefixSharing, kvSequences);
    }

    /** Tokens one scheduler iteration computes (decode tokens first, prompt chunks fill the rest). */
    public EngineOptions tokenBudget(int tokens) {
        return new EngineOptions(kvMemoryBytes, tokens, gatherMicros, prefixSharing, kvSequences);
    }

    /** Whether prompts sharing a prefix share its KV blocks. */
    public EngineOptions prefixSharing(boolean on) {
        return new EngineOptions(kvMemoryBytes, tokenBudget, gatherMicros, on, kvSequences);
    }

    /** Without an explicit KV memory size: a pool for this many full-context sequences (one CLI job: its rows). */
    public EngineOptions kvSequences(int n) {
        return new EngineOptions(kvMemoryBytes, tokenBudget, gatherMicros, prefixSharing, n);
    }

    /** Parses sizes such as {@code 2g}, {@code 512m}, {@code 65536k} or plain bytes. */
    public static long parseBytes(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        long mul = 1;
        if (t.endsWith("b")) t = t.substring(0, t.length() - 1);
        if (t.endsWith("k")) mul = 1L << 10;
        else if (t.endsWith("m")) mul = 1L << 20;
        else if (t.endsWith("g")) mul = 1L << 30;
        if (mul > 1) t = t.substring(0, t.length() - 1);
        try {
            double v = Double.parseDouble(t);
            if (!(v > 0) || v * mul > Long.MAX_VALUE / 2) throw new NumberFormatException();
            return (long) (v * mul);
        } catch (NumberFormatException e) {
            throw new CortadoException("memory size '" + s + "' is not a positive size such as 2g, 512m or 65536k");
        }
    }
}
