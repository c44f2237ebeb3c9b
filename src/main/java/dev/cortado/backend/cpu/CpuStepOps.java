package dev.cortado.backend.cpu;

import dev.cortado.backend.KvView;
import dev.cortado.backend.StepMetadata;

/**
 * The CPU side of the step ops ({@link dev.cortado.backend.Backend#beginStep}): rotary embedding and KV writes read
 * rows of any width (a fused q|k|v projection) in place, with the step's host arrays; nothing is copied.
 */
final class CpuStepOps {
    private CpuStepOps() {}

    /** Rotates {@code heads} heads starting at column 0 of each {@code cols}-wide row of a, at positions[row]. */
    static void rope(float[] a, int cols, int heads, int headDim, int rotaryDim, int[] positions, float[] invFreq,
                     boolean interleaved, int rows) {
        int half = rotaryDim / 2;
        float[] cos = new float[half], sin = new float[half];
        for (int r = 0; r < rows; r++) {
            int pos = positions[r];
            for (int i = 0; i < half; i++) {
                double ang = (float) pos * invFreq[i]; // float32 product, as PyTorch computes the angles
                cos[i] = (float) Math.cos(ang);
                sin[i] = (float) Math.sin(ang);
            }
            for (int h = 0; h < heads; h++) {
                int o = r * cols + h * headDim;
                for (int i = 0; i < half; i++) {
                    int i1 = interleaved ? o + 2 * i : o + i, i2 = interleaved ? i1 + 1 : o + i + half;
                    float x1 = a[i1], x2 = a[i2];
                    a[i1] = x1 * cos[i] - x2 * sin[i];
                    a[i2] = x2 * cos[i] + x1 * sin[i];
                }
            }
        }
    }

    /** Copies columns [col, col + H·D) of src's {@code cols}-wide rows [B·S] into dst at the step's positions. */
    static void writeKv(float[] src, int cols, int col, KvView dst, float[] d, StepMetadata.Attn a, int batch, int seq) {
        int hd = dst.headDim();
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < seq; p++) {
                int pos = a.position(b, p), row = (b * seq + p) * cols + col;
                for (int h = 0; h < dst.heads(); h++) System.arraycopy(src, row + h * hd, d, (int) dst.offset(b, h, pos), hd);
            }
        }
    }
}
