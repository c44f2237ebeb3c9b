package dev.cortado.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.Backend;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.DecoderModel;
import dev.cortado.model.gpt2.Gpt2Family;
import dev.cortado.model.llama.LlamaFamily;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import dev.cortado.tensor.WeightShapes;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * GGUF weights are converted one tensor at a time while a family binds them (the peak RSS of a load ≈ the packed
 * weights, not the file plus every converted copy): converted copies of a layer are freed when the next layer is read,
 * nothing is left after the load, a quantized embedding is never dequantized on the CPU (tied: the head serves the
 * lookups; untied: {@code Backend.quantizedTable}). Logits of these loads against transformers: {@link GgufModelTest}.
 */
class GgufLazyLoadTest {
    static final Path DIR = Path.of("models/fixtures/gguf");

    /** A CpuBackend behind a proxy that records, at every call, the converted bytes the GGUF model holds, and what weight() got. */
    static final class Recorder {
        final GgufModel g;
        final CpuBackend cpu = new CpuBackend();
        long peakConverted;
        final List<String> calls = new ArrayList<>();
        final List<long[]> weightShapes = new ArrayList<>();

        Recorder(GgufModel g) {
            this.g = g;
        }

        Backend backend() {
            return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (p, m, args) -> {
                peakConverted = Math.max(peakConverted, g.convertedBytes());
                calls.add(m.getName());
                if (m.getName().equals("weight") && args.length == 1 && args[0] instanceof Tensor t) weightShapes.add(t.shape());
                try {
                    return m.invoke(cpu, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });
        }
    }

    /** Bytes every converted copy of the quantized linears would take at once (the old loader held them all). */
    static long allConverted(GgufModel g) {
        long n = 0;
        for (GgufFile.TensorInfo t : g.file().tensors().values()) {
            if (!GgufTensors.isQuantized(t.type())) continue;
            int bits = t.type() == GgmlType.Q4_0 || t.type() == GgmlType.Q4_1 || t.type() == GgmlType.Q4_K ? 4 : 8;
            int block = t.type() == GgmlType.Q6_K ? 16 : 32;
            n += t.elements() * bits / 8 + t.elements() / block * 4L * (t.type() == GgmlType.Q8_0 || t.type() == GgmlType.Q6_K ? 1 : 2);
        }
        return n;
    }

    @Test
    void llamaLoadHoldsOneLayerOfCopiesAndNeverDequantizesTheTiedTable() throws Exception {
        GgufModel g = GgufModel.load(GgufFile.open(DIR.resolve("stories260K-q8_0.gguf")));
        Recorder r = new Recorder(g);
        long vocab = g.config().get("vocab_size").asLong(), hidden = g.config().get("hidden_size").asLong();
        try (DecoderModel m = LlamaFamily.fromGguf(g, r.backend())) {
            long all = allConverted(g);
            int layers = g.config().get("num_hidden_layers").asInt();
            assertTrue(r.peakConverted > 0, "nothing converted?");
            // the embedding/head copy (bound first, freed when layer 0 is read) or one layer's copies, never all of them
            assertTrue(r.peakConverted < all / layers * 2, "peak converted " + r.peakConverted + " of " + all + " bytes (" + layers + " layers)");
            assertEquals(0, g.convertedBytes(), "converted copies left after the load");
            assertTrue(g.tensors().isEmpty() && g.quantized().isEmpty(), "a late reader must find no weight, not freed memory");
            for (long[] s : r.weightShapes) assertFalse(Arrays.equals(s, new long[] {vocab, hidden}), "the tied quantized table was dequantized");
            assertTrue(r.calls.contains("tiedEmbedding"), r.calls.toString());
            try (var s = m.newSession(1)) {
                float[] logits = s.step(new int[][] {{1, 403, 407}}, null)[0];
                assertEquals(vocab, logits.length);
            }
        }
    }

    @Test
    void untiedQuantizedEmbeddingIsHeldQuantized() throws Exception {
        GgufModel g = GgufModel.load(GgufFile.open(DIR.resolve("tiny-gpt2-q8_0.gguf")));
        Recorder r = new Recorder(g);
        long vocab = g.config().get("vocab_size").asLong(), hidden = g.config().get("n_embd").asLong();
        try (DecoderModel m = Gpt2Family.fromGguf(g, r.backend())) {
            assertTrue(r.calls.contains("quantizedTable"), r.calls.toString());
            // wpe (dequantized: a position table, [n_positions, n_embd]) is the only table bound as floats; here it has wte's shape
            long tables = r.weightShapes.stream().filter(s -> Arrays.equals(s, new long[] {vocab, hidden})).count();
            assertEquals(g.config().get("n_positions").asLong() == vocab ? 1 : 0, tables, "the quantized wte was dequantized");
            assertEquals(0, g.convertedBytes());
        }
    }

    @Test
    void aCopyIsFreedWhenAnotherLayerIsReadAndShapesNeedNoConversion() throws Exception {
        try (GgufModel g = GgufModel.load(GgufFile.open(DIR.resolve("stories260K-q8_0.gguf")))) {
            String q0 = "model.layers.0.self_attn.q_proj.weight", q1 = "model.layers.1.self_attn.q_proj.weight";
            long[] shape = ((WeightShapes) g.quantized()).shapeOf(q0);
            assertNotNull(shape);
            assertEquals(0, g.convertedBytes(), "a shape must not convert");
            assertNull(((WeightShapes) g.tensors()).shapeOf("no.such.weight"));
            QuantizedMatrix a = g.quantized().get(q0);
            assertEquals(shape[0], a.rows());
            assertEquals(shape[1], a.cols());
            assertTrue(a == g.quantized().get(q0), "a second read of the same layer is the same copy");
            long one = g.convertedBytes();
            assertTrue(one > 0);
            QuantizedMatrix b = g.quantized().get(q1);
            assertEquals(one, g.convertedBytes(), "layer 0's copy must be freed when layer 1 is read");
            assertThrows(IllegalStateException.class, () -> a.get(0, 0)); // freed memory is refused, never read
            assertTrue(Float.isFinite(b.get(0, 0)));
            // the tied head is the embedding's copy: one conversion, one object
            assertTrue(g.quantized().get("lm_head.weight") == g.quantized().get("model.embed_tokens.weight"));
            g.releaseConverted();
            assertEquals(0, g.convertedBytes());
            assertNull(g.quantized().get(q1));
        }
    }
}
