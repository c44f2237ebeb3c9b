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
 * int32 tokenIds[B·S] | int32 embedPositions[B·S] | int32 ropePositions[B·S] | int32 queryStarts[B]
 * self:  int64 slots[B·S] | int32 blockTable[B, maxBlocks] | int32 lens[B] | uint8 keyMask[B, kvLen]
 * cross: int32 blockTable[B, maxBlocks] | int32 lens[B] | uint8 keyMask[B, kvLen]
 * </pre>
 */
final class StepPlan {
    /** One attention's part: slot per new token (self only), block table (paged only), lengths, key mask. */
    record Section(long slots, long table, int blockSize, int maxBlocks, long lens, long keyMask, int kvLen) {}

    /**
     * A decode step's padded shape (a CUDA graph bucket): self-attention keys up to {@code selfKvLen} over
     * {@code selfBlocks} block-table columns, cross keys up to {@code crossKvLen}. Every step of a bucket packs into
     * the same layout (same offsets and sizes), so a captured graph reads any of them; key masks are padded with
     * zeros, tables with block 0, and the kernels read each row's true length from {@code lens}.
     */
    record Shape(int selfKvLen, int selfBlocks, int crossKvLen) {}

    private final StepMetadata meta;
    private final long tokenIds, embedPositions, ropePositions, queryStarts;
    private final Section self, cross;
    private final Shape shape;
    private final long bytes;
    private long cursor;

    private StepPlan(StepMetadata m, Shape shape) {
        this.meta = m;
        this.shape = shape;
        int n = m.rows() * m.queries();
        tokenIds = m.tokenIds() == null ? -1 : take(4L * n);
        embedPositions = m.embedPositions() == null ? -1 : take(4L * n);
        ropePositions = m.ropePositions() == null ? -1 : take(4L * n);
        queryStarts = take(4L * m.rows());
        self = section(m.self(), true, shape == null ? 0 : shape.selfKvLen(), shape == null ? 0 : shape.selfBlocks());
        cross = m.cross() == null ? null : section(m.cross(), false, shape == null ? 0 : shape.crossKvLen(), 0);
        bytes = Math.max(cursor, 16);
    }

    static StepPlan of(StepMetadata m) {
        return new StepPlan(m, null);
    }

    /** Packed to a bucket's padded shape (null: the step's own). */
    static StepPlan of(StepMetadata m, Shape shape) {
        return new StepPlan(m, shape);
    }

    Shape shape() { return shape; }

    private long take(long size) {
        long at = cursor;
        cursor = (cursor + size + 15) & ~15L;
        return at;
    }

    private Section section(StepMetadata.Attn a, boolean writes, int padKvLen, int padBlocks) {
        int b = meta.rows();
        KvView l = a.layout();
        long slots = writes ? take(8L * b * meta.queries()) : -1;
        long table = -1;
        int blockSize, maxBlocks;
        if (l.isPaged()) {
            blockSize = l.blockSize();
            maxBlocks = 1;
            for (int r = 0; r < Math.min(b, l.blocks().length); r++) maxBlocks = Math.max(maxBlocks, l.blocks()[r].length);
            if (padBlocks > 0) {
                if (padBlocks < maxBlocks) throw new IllegalArgumentException("bucket of " + padBlocks + " blocks for a table of " + maxBlocks);
                maxBlocks = padBlocks;
            }
            table = take(4L * b * maxBlocks);
        } else {
            blockSize = Math.max(1, (int) (l.batchStride() / l.posStride()));
            maxBlocks = 1;
        }
        int kvLen = a.kvLen();
        if (padKvLen > 0) {
            if (padKvLen < kvLen) throw new IllegalArgumentException("bucket of " + padKvLen + " keys for " + kvLen);
            kvLen = padKvLen;
        }
        long lens = take(4L * b);
        long mask = a.mask().keyValid() == null ? -1 : take((long) b * kvLen);
        return new Section(slots, table, blockSize, maxBlocks, lens, mask, kvLen);
    }

    StepMetadata meta() { return meta; }

    /** Bytes of the packed buffer. */
    long bytes() { return bytes; }

    long tokenIds() { return tokenIds; }

    long embedPositions() { return embedPositions; }

    long ropePositions() { return ropePositions; }

    /** int32 [B]: cache position of each row's first query (relative position biases computed on the device). */
    long queryStarts() { return queryStarts; }

    Section self() { return self; }

    Section cross() { return cross; }

    Section section(boolean isCross) { return isCross ? cross : self; }

    /** Writes the packed metadata into {@code host} (at least {@link #bytes()} long). */
    void fill(MemorySegment host) {
        int n = meta.rows() * meta.queries();
        ints(host, tokenIds, meta.tokenIds(), n);
        ints(host, embedPositions, meta.embedPositions(), n);
        ints(host, ropePositions, meta.ropePositions(), n);
        for (int r = 0; r < meta.rows(); r++) host.set(Tensor.I32_LE, queryStarts + 4L * r, meta.self().position(r, 0));
        fill(host, self, meta.self());
        if (cross != null) fill(host, cross, meta.cross());
    }

    /**
     * Whether row r is a padding row of a graph bucket (rows beyond the paged layout's block tables,
     * {@link CudaStepGraphs#padRows}): it writes no key (slot -1) and its table reads block 0.
     */
    private static boolean inert(KvView l, int r) {
        return l.isPaged() && r >= l.blocks().length;
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
                    long slot = inert(l, r) || l.isPaged() && l.blocks()[r][pos / l.blockSize()] < 0 ? -1
                            : l.offset(r, 0, pos) / rowElems;
                    host.set(Tensor.I64_LE, s.slots() + 8L * (r * q + p), slot);
                }
            }
        }
        if (s.table() >= 0) {
            for (int r = 0; r < b; r++) {
                int[] row = inert(l, r) ? new int[0] : l.blocks()[r];
                for (int j = 0; j < s.maxBlocks(); j++) {
                    host.set(Tensor.I32_LE, s.table() + 4L * (r * s.maxBlocks() + j), j < row.length ? Math.max(row[j], 0) : 0);
                }
            }
        }
        for (int r = 0; r < b; r++) host.set(Tensor.I32_LE, s.lens() + 4L * r, a.kvLen());
        if (s.keyMask() >= 0) {
            boolean[][] valid = a.mask().keyValid();
            for (int r = 0; r < b; r++) {
                for (int j = 0; j < s.kvLen(); j++) {
                    host.set(ValueLayout.JAVA_BYTE, s.keyMask() + (long) r * s.kvLen() + j, (byte) (j < a.kvLen() && valid[r][j] ? 1 : 0));
                }
            }
        }
    }
}
