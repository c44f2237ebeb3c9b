package dev.cortado.kv;

import dev.cortado.CortadoException;

/** Fixed pool of KV blocks with reference counts (beam forks and shared prefixes share blocks copy-on-write). */
public final class BlockAllocator {
    private final int[] refs;
    private final int[] free;
    private int freeCount;

    public BlockAllocator(int blocks) {
        refs = new int[blocks];
        free = new int[blocks];
        for (int i = 0; i < blocks; i++) free[i] = blocks - 1 - i;
        freeCount = blocks;
    }

    public int allocate() {
        if (freeCount == 0) throw new CortadoException("KV cache is full (" + refs.length + " blocks in use)");
        int b = free[--freeCount];
        refs[b] = 1;
        return b;
    }

    public void retain(int block) {
        refs[block]++;
    }

    public void release(int block) {
        if (--refs[block] == 0) free[freeCount++] = block;
    }

    public int refs(int block) {
        return refs[block];
    }

    public int inUse() {
        return refs.length - freeCount;
    }

    public int capacity() {
        return refs.length;
    }
}
