package dev.cortado.backend.cuda;

import dev.cortado.backend.KvView;
import dev.cortado.backend.StepMetadata;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Where each part of a step's metadata sits in the one buffer the CUDA backend uploads per step (16-byte aligned
 * sections, byte offsets; -1 = absent), and the packing itself. Pure host code: what a step uploads is checked
 * without a device.
 *
 * <pre>
 * int32 tokenIds[B·S] | int32 embedPositions[B·S] | int32 ropePositions[B·S]
 * self:  int64 slots[B·S] | int32 blockTable[B, maxBlocks] | int32 lens[B] | uint8 keyMask[B, kvLen]
 * cross: int32 blockTable[B, maxBlocks] | int32 lens[B] | uint8 keyMask[B, kvLen]
 * </pre>
 */
final class StepPlan {
    /** One attention's part: slot per new token (self only), block table (paged only), lengths, key mask. */
    record Section(long slots, long table, int blockSize, int maxBlocks, long lens, long keyMask) {}

    private final StepMetadata meta;
    private final long tokenIds, embedPositions, ropePositions;
    private final Section self, cross;
    private final long bytes;
    private long cursor;

    private StepPlan(StepMetadata m) {
        this.meta = m;
        int n = m.rows() * m.queries();
        tokenIds = m.tokenIds() == null ? -1 : take(4L * n);
        embedPositions = m.embedPositions() == null ? -1 : take(4L * n);
        ropePositions = m.ropePositions() == null ? -1 : take(4L * n);
        self = section(m.self(), true);
        cross = m.cross() == null ? null : section(m.cross(), false);
        bytes = Math.max(cursor, 16);
    }

    static StepPlan of(StepMetadata m) {
        return new StepPlan(m);
    }

    private long take(long size) {
        long at = cursor;
        cursor = (cursor + size + 15) & ~15L;
        return at;
    }

    private Section section(StepMetadata.Attn a, boolean writes) {
        int b = meta.rows();
        KvView l = a.layout();
        long slots = writes ? take(8L * b * meta.queries()) : -1;
        long table = -1;
        int blockSize, maxBlocks;
        if (l.isPaged()) {
            blockSize = l.blockSize();
            maxBlocks = 1;
            for (int r = 0; r < b; r++) maxBlocks = Math.max(maxBlocks, l.blocks()[r].length);
            table = take(4L * b * maxBlocks);
        } else {
            blockSize = Math.max(1, (int) (l.batchStride() / l.posStride()));
            maxBlocks = 1;
        }
        long lens = take(4L * b);
        long mask = a.mask().keyValid() == null ? -1 : take((long) b * a.kvLen());
        return new Section(slots, table, blockSize, maxBlocks, lens, mask);
    }

    StepMetadata meta() { return meta; }

    /** Bytes of the packed buffer. */
    long bytes() { return bytes; }

    long tokenIds() { return tokenIds; }

    long embedPositions() { return embedPositions; }

    long ropePositions() { return ropePositions; }

    Section self() { return self; }

    Section cross() { return cross; }

    Section section(boolean isCross) { return isCross ? cross : self; }

    /** Writes the packed metadata into {@code host} (at least {@link #bytes()} long). */
    void fill(MemorySegment host) {
        int n = meta.rows() * meta.queries();
        ints(host, tokenIds, meta.tokenIds(), n);
        ints(host, embedPositions, meta.embedPositions(), n);
        ints(host, ropePositions, meta.ropePositions(), n);
        fill(host, self, meta.self());
        if (cross != null) fill(host, cross, meta.cross());
    }

    private static void ints(MemorySegment host, long at, int[] v, int n) {
        if (at >= 0) MemorySegment.copy(v, 0, host, Tensor.I32_LE, at, n);
    }

    private void fill(MemorySegment host, Section s, StepMetadata.Attn a) {
        int b = meta.rows(), q = meta.queries();
        KvView l = a.layout();
        if (s.slots() >= 0) {
            long rowElems = (long) l.heads() * l.headDim();
            for (int r = 0; r < b; r++) {
                for (int p = 0; p < q; p++) {
                    int pos = a.position(r, p);
                    long slot = l.isPaged() && l.blocks()[r][pos / l.blockSize()] < 0 ? -1 : l.offset(r, 0, pos) / rowElems;
                    host.set(Tensor.I64_LE, s.slots() + 8L * (r * q + p), slot);
                }
            }
        }
        if (s.table() >= 0) {
            for (int r = 0; r < b; r++) {
                int[] row = l.blocks()[r];
                for (int j = 0; j < s.maxBlocks(); j++) {
                    host.set(Tensor.I32_LE, s.table() + 4L * (r * s.maxBlocks() + j), j < row.length ? Math.max(row[j], 0) : 0);
                }
            }
        }
        for (int r = 0; r < b; r++) host.set(Tensor.I32_LE, s.lens() + 4L * r, a.kvLen());
        if (s.keyMask() >= 0) {
            boolean[][] valid = a.mask().keyValid();
            for (int r = 0; r < b; r++) {
                for (int j = 0; j < a.kvLen(); j++) {
                    host.set(ValueLayout.JAVA_BYTE, s.keyMask() + (long) r * a.kvLen() + j, (byte) (valid[r][j] ? 1 : 0));
                }
            }
        }
    }
}
