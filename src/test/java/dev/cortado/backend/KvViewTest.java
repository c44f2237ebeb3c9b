package dev.cortado.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * {@link KvView#offset} of a paged view against its definition (block {@code blocks[b][p / blockSize]} of a pool
 * [numBlocks, blockSize, H, D], position {@code p % blockSize} inside it), for power-of-two page sizes (shift and mask)
 * and others (division).
 */
class KvViewTest {
    @Test
    void pagedOffsetsFollowTheBlockTable() {
        int heads = 3, d = 8;
        for (int bs : new int[] {1, 2, 16, 32, 3, 12, 48}) {
            int[][] blocks = {{7, 2, 5, 0, 9, 4, 1, 3, 8, 6}, {3, 8, 1, 6, 0, 2, 9, 7, 4, 5}};
            KvView v = KvView.paged(null, heads, bs, d, blocks);
            for (int b = 0; b < 2; b++) {
                for (int h = 0; h < heads; h++) {
                    for (int p = 0; p < 10 * bs; p++) {
                        long want = ((long) blocks[b][p / bs] * bs + p % bs) * heads * d + (long) h * d;
                        assertEquals(want, v.offset(b, h, p), "block size " + bs + " row " + b + " head " + h + " position " + p);
                    }
                }
            }
        }
    }
}
