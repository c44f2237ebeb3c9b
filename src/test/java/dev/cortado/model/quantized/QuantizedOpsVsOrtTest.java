package dev.cortado.model.quantized;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.layers.Linear;
import dev.cortado.model.GraphTracer;
import dev.cortado.model.Weights;
import dev.cortado.onnx.OnnxModel;
import dev.cortado.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One-linear graphs (models/fixtures/quantized/ops, written by onnxruntime's quantizers) traced and run by Cortado
 * against ONNX Runtime Java on the same file and input; the bad_* graphs give one clear line.
 */
class QuantizedOpsVsOrtTest {
    static final Path OPS = Path.of("models/fixtures/quantized/ops");

    @ParameterizedTest
    @ValueSource(strings = {"nbits4_k40_b16_zp_bias.onnx", "nbits4_k64_b32_sym.onnx", "nbits8_k48_b16_zp.onnx",
            "mmint_s8_per_column.onnx", "mmint_u8_per_tensor.onnx"})
    void linearMatchesOrt(String file) throws Exception {
        Path p = OPS.resolve(file);
        try (OnnxModel m = OnnxModel.open(p); Backend be = new CpuBackend()) {
            List<GraphTracer.LinearOp> ops = new GraphTracer(m.graph()).linears();
            assertEquals(1, ops.size());
            assertTrue(ops.getFirst().quantized());
            Linear l = Weights.linear(be, ops.getFirst(), p.toString(), -1, -1);
            int k = l.in(), rows = 2 * 5;
            SplittableRandom r = new SplittableRandom(11);
            float[] x = new float[rows * k];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 2 + (i % 9 == 0 ? 3 : 0));
            float[] mine = be.toHost(l.forward(be, be.fromHost(x.clone(), 2, 5, k)));
            float[] ort = ort(p, x, k);
            double worst = 0, scale = 0;
            for (int i = 0; i < ort.length; i++) {
                worst = Math.max(worst, Math.abs(mine[i] - ort[i]));
                scale = Math.max(scale, Math.abs(ort[i]));
            }
            System.out.printf("%s: max |Cortado − ORT| = %.3g (outputs up to %.3g)%n", file, worst, scale);
            assertTrue(worst <= 1e-5 * Math.max(1, scale), file + ": " + worst);
        }
    }

    private static float[] ort(Path p, float[] x, int k) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(p.toString(), new OrtSession.SessionOptions());
             OnnxTensor in = OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(x), new long[] {2, 5, k});
             OrtSession.Result res = s.run(Map.of("X", in))) {
            float[][][] y = (float[][][]) res.get(0).getValue();
            int n = y[0][0].length;
            float[] out = new float[10 * n];
            for (int b = 0; b < 2; b++) for (int t = 0; t < 5; t++) System.arraycopy(y[b][t], 0, out, (b * 5 + t) * n, n);
            return out;
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bad_nbits_bits3.onnx|3-bit weights are not supported",
        "bad_nbits_gidx.onnx|g_idx",
        "bad_nbits_blob.onnx|B is U8 [20, 2, 12], expected uint8 [20, 2, 16]",
        "bad_nbits_k33_odd.onnx|K = 33 is odd",
        "bad_nbits_block24.onnx|block_size 24 is not a power of two",
        "bad_mmint_zp_2d.onnx|B zero point is I8 [2, 20], expected a I8 scalar or [20]"})
    void badGraphsGiveOneClearLine(String file, String expected) {
        Path p = OPS.resolve(file);
        try (OnnxModel m = OnnxModel.open(p)) {
            CortadoException e = assertThrows(CortadoException.class, () -> new GraphTracer(m.graph()).linears());
            assertTrue(e.getMessage().contains(expected), e.getMessage());
            assertTrue(e.getMessage().contains("--engine ort"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @org.junit.jupiter.api.Test
    void paddedBlocksAreReblockedExactly() {
        // K = 40 with block 16: MatMulNBits pads the last block; the canonical weight uses gcd(16, 40) = 8
        try (OnnxModel m = OnnxModel.open(OPS.resolve("nbits4_k40_b16_zp_bias.onnx"))) {
            GraphTracer.LinearOp op = new GraphTracer(m.graph()).linears().getFirst();
            assertEquals(8, op.nbits().blockSize());
            assertEquals(40, op.nbits().cols());
            assertEquals(24, op.nbits().rows());
            Tensor w = op.nbits().dequantize();
            assertEquals(24 * 40, w.numel());
            assertTrue(op.bias() != null);
        }
    }
}
