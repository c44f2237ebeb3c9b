package dev.cortado.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cortado.CortadoException;
import dev.cortado.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/** Paged KV cache bookkeeping: forks share blocks, writes copy only the shared block, reset frees everything. */
class KvCacheTest {
    @Test
    void forksShareBlocksAndCopyOnWrite() {
        KvCache c = new KvCache(new CpuBackend(), 2, 4, 2, 64, 8);
        c.prepareWrite(0, 20);                 // 2 blocks per row
        assertEquals(8, c.blocksInUse());
        c.reorder(new int[] {0, 0, 0, 1}, 20); // three beams continue row 0: tables shared, no data copied
        assertEquals(4, c.blocksInUse());
        assertEquals(0, c.copiedBlocks());
        c.prepareWrite(20, 1);                 // position 20 lives in block 1: rows sharing it copy that block only
        assertEquals(2, c.copiedBlocks());
        c.reset();
        assertEquals(0, c.blocksInUse());
    }

    @Test
    void writingPastCapacityIsAClearError() {
        KvCache c = new KvCache(new CpuBackend(), 1, 1, 1, 16, 4);
        c.prepareWrite(0, 16);
        assertThrows(CortadoException.class, () -> c.prepareWrite(16, 1));
    }
}
