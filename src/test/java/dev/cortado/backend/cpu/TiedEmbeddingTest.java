package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cortado.CortadoException;
import dev.cortado.backend.Quantization;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Quantizer;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code Backend.tiedEmbedding} on the CPU: token rows gathered from the packed vocabulary head equal the table's rows as
 * the head holds them — exactly the float32 table, its bfloat16 rounding, or {@link QuantizedMatrix#get} of the same
 * quantization — for widths that leave a partial last panel.
 */
class TiedEmbeddingTest {
    static final int VOCAB = 83, DIM = 64;

    static Tensor table() {
        float[] t = new float[VOCAB * DIM];
        Random r = new Random(7);
        for (int i = 0; i < t.length; i++) t[i] = (float) r.nextGaussian();
        return Tensor.of(t, VOCAB, DIM);
    }

    static float[] gather(CpuBackend be, Tensor table, int[] ids) {
        Tensor head = be.headWeight(table, false);
        Tensor emb = be.tiedEmbedding(head);
        assertNotNull(emb);
        assertEquals(VOCAB, emb.dim(0));
        assertEquals(DIM, emb.dim(1));
        Tensor out = be.allocate(DType.F32, ids.length, DIM);
        be.embedding(emb, ids, out);
        return be.toHost(out);
    }

    static final int[] IDS = {0, 1, 15, 16, 17, 31, 32, 63, 64, 80, 82};

    @Test
    void float32HeadGivesTheTableExactly() {
        Tensor t = table();
        try (CpuBackend be = new CpuBackend()) {
            float[] got = gather(be, t, IDS);
            for (int i = 0; i < IDS.length; i++) {
                for (int j = 0; j < DIM; j++) assertEquals(t.getFloat((long) IDS[i] * DIM + j), got[i * DIM + j], "id " + IDS[i]);
            }
        }
    }

    @Test
    void bf16HeadGivesTheBf16Rows() {
        Tensor t = table();
        try (CpuBackend be = new CpuBackend(WorkerPool.shared(), DType.BF16)) {
            float[] got = gather(be, t, IDS);
            for (int i = 0; i < IDS.length; i++) {
                for (int j = 0; j < DIM; j++) {
                    float want = PackedWeight.bf16(PackedWeight.toBf16(t.getFloat((long) IDS[i] * DIM + j)));
                    assertEquals(want, got[i * DIM + j], "id " + IDS[i]);
                }
            }
        }
    }

    @Test
    void quantizedHeadGivesTheDequantizedRows() {
        for (int bits : new int[] {8, 4}) {
            Tensor t = table();
            try (CpuBackend be = new CpuBackend(WorkerPool.shared(), DType.F32, new Quantization(bits, true));
                 Arena a = Arena.ofConfined()) {
                QuantizedMatrix q = Quantizer.quantize(t, true, bits, a);
                float[] got = gather(be, t, IDS);
                for (int i = 0; i < IDS.length; i++) {
                    for (int j = 0; j < DIM; j++) assertEquals(q.get(IDS[i], j), got[i * DIM + j], bits + "-bit, id " + IDS[i]);
                }
            }
        }
    }

    @Test
    void idOutsideTheTableIsOneClearError() {
        try (CpuBackend be = new CpuBackend()) {
            Tensor emb = be.tiedEmbedding(be.headWeight(table(), false));
            Tensor out = be.allocate(DType.F32, 1, DIM);
            CortadoException e = assertThrows(CortadoException.class, () -> be.embedding(emb, new int[] {VOCAB}, out));
            assertEquals("token id 83 outside the embedding table (size 83)", e.getMessage());
        }
    }
}
