package dev.cortado.bench;

import static dev.cortado.bench.OnnxWriter.a;

import dev.cortado.CortadoException;
import dev.cortado.bench.SyntheticModels.Spec;
import dev.cortado.safetensors.Safetensors;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Quantizer;
import dev.cortado.tensor.Tensor;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;

/**
 * The int4 ONNX variant of a synthetic decoder: the same graph as {@link DecoderOnnx} with every linear layer (the tied
 * lm_head included, as ORT-GenAI's builder does) a {@code com.microsoft MatMulNBits} node — 4 bits, block 32, B uint8
 * [N, K/32, 16] (codes low nibble first), float32 scales [N·K/32] (float16 values: v2 files), zero points uint8 [N, ceil(K/32 / 2)] when asked
 * (otherwise symmetric, the builder's default), {@code accuracy_level} as given (the builder uses 4 on the CPU: int8
 * activations). Weights are quantized by Cortado's own {@link Quantizer#quantizeNBits}; float tensors (embeddings,
 * norms, biases) are copied as they are. Everything lies in {@code model.onnx.data} beside {@code model.onnx}, so
 * Cortado (through its MatMulNBits tracer) and ONNX Runtime run the one file.
 */
public final class Int4Onnx {
    private Int4Onnx() {}

    public static final String DATA = "model.onnx.data";

    /** Options of the written file: zero points (asymmetric) or not, and MatMulNBits's accuracy_level. */
    public record Options(boolean zeroPoints, int accuracyLevel) {
        public Options {
            if (accuracyLevel < 0 || accuracyLevel > 4) throw new CortadoException("MatMulNBits accuracy_level " + accuracyLevel + " is not 0..4");
        }

        String suffix() {
            return "-int4" + (zeroPoints ? "-zp" : "") + "-acc" + accuracyLevel;
        }
    }

    /**
     * The int4 ONNX folder of synthetic model {@code name} (config.json, model.onnx, model.onnx.data), written once
     * from the float model's weights under {@code root} (which is materialized first).
     */
    public static Path materialize(String name, Path root, Options o) {
        return materialize(SyntheticModels.spec(name), root, o);
    }

    static Path materialize(Spec s, Path root, Options o) {
        String name = s.name();
        Path base = SyntheticModels.materialize(s, root);
        Path dir = root.resolve(name + o.suffix());
        Path marker = dir.resolve(".complete");
        String stamp;
        try {
            stamp = "cortado synthetic int4 v2 " + o + " from " + Files.readString(base.resolve(".complete"));
        } catch (IOException e) {
            throw new CortadoException("cannot read " + base.resolve(".complete") + ": " + e.getMessage(), e);
        }
        try {
            if (Files.isRegularFile(marker) && Files.readString(marker).equals(stamp)) return dir;
            Files.createDirectories(dir);
            Files.deleteIfExists(marker);
            write(s, base, dir, o);
            Files.copy(base.resolve("config.json"), dir.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
            Files.writeString(marker, stamp);
            return dir;
        } catch (IOException e) {
            throw new CortadoException("cannot write the int4 ONNX model " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code out/model.onnx} and its data file from the float weights of {@code base/model.safetensors}. */
    static void write(Spec s, Path base, Path out, Options o) throws IOException {
        Path dataTmp = out.resolve(DATA + ".tmp");
        byte[] model;
        try (Safetensors st = Safetensors.openFolder(base);
             OutputStream data = new BufferedOutputStream(Files.newOutputStream(dataTmp), 1 << 20)) {
            Data d = new Data(data);
            OnnxWriter g = new OnnxWriter();
            Map<String, String> bound = new HashMap<>();
            java.util.function.Function<String, String> w = n -> bound.computeIfAbsent(n, name -> {
                Tensor t = tensor(st, name);
                long off = d.write(t.data(), t.numel() * 4);
                return g.external(name, OnnxWriter.FLOAT, t.shape(), DATA, off, t.numel() * 4);
            });
            DecoderOnnx.Linears lin = (gr, x, name, inOut, tag) -> {
                Tensor t = tensor(st, name);
                try (Arena arena = Arena.ofConfined()) {
                    QuantizedMatrix q = Quantizer.quantizeNBits(t, !inOut, o.zeroPoints(), arena);
                    return matMulNBits(gr, d, x, name, q, o, tag);
                }
            };
            model = DecoderOnnx.build(s, g, w, lin, "int4 MatMulNBits (block 32, " + (o.zeroPoints() ? "zero points" : "symmetric")
                    + ", accuracy_level " + o.accuracyLevel() + ") quantized by dev.cortado.tensor.Quantizer.quantizeNBits, built by dev.cortado.bench.Int4Onnx");
        }
        Files.move(dataTmp, out.resolve(DATA), StandardCopyOption.REPLACE_EXISTING);
        Files.write(out.resolve("model.onnx"), model);
    }

    private static Tensor tensor(Safetensors st, String name) {
        Tensor t = st.tensors().get(name);
        if (t == null) throw new CortadoException("synthetic weights have no tensor '" + name + "'");
        if (t.dtype() != DType.F32) throw new CortadoException("synthetic weight '" + name + "' is " + t.dtype() + ", expected float32");
        return t;
    }

    /** y = x · Wᵀ for the quantized [N, K] weight: B, scales (and zero points) written to the data file. */
    static String matMulNBits(OnnxWriter g, Data d, String x, String name, QuantizedMatrix q, Options o, String tag) {
        int n = q.rows(), k = q.cols(), blocks = k / q.blockSize();
        if (q.bits() != 4 || q.blockSize() != Quantizer.BLOCK) throw new IllegalArgumentException("expected int4 block 32: " + q);
        long vb = (long) n * k / 2, sb = (long) n * blocks * 4;
        // QuantizedMatrix's row-major codes (low nibble first) are MatMulNBits's [N, blocks, 16] blobs byte for byte
        String b = g.external(name + "_Q4", OnnxWriter.UINT8, new long[] {n, blocks, Quantizer.BLOCK / 2}, DATA, d.write(q.values(), vb), vb);
        String sc = g.external(name + "_scales", OnnxWriter.FLOAT, new long[] {(long) n * blocks}, DATA, d.write(q.scales(), sb), sb);
        String[] ins = {x, b, sc};
        if (o.zeroPoints()) {
            int zpRow = (blocks + 1) / 2;
            MemorySegment zp = MemorySegment.ofArray(new byte[n * zpRow]);
            for (int r = 0; r < n; r++) {
                for (int bl = 0; bl < blocks; bl++) {
                    float s = q.scale(r, bl);
                    int z = s == 0 ? 8 : Math.round(-q.offset(r, bl) / s);
                    long i = (long) r * zpRow + bl / 2;
                    byte old = zp.get(ValueLayout.JAVA_BYTE, i);
                    zp.set(ValueLayout.JAVA_BYTE, i, (byte) ((bl & 1) == 0 ? (old & 0xf0) | z : (old & 0x0f) | z << 4));
                }
            }
            ins = new String[] {x, b, sc, g.external(name + "_zp", OnnxWriter.UINT8, new long[] {(long) n * zpRow}, DATA, d.write(zp, zp.byteSize()), zp.byteSize())};
        }
        return g.msNode("MatMulNBits", tag, ins, a("K", (long) k), a("N", (long) n), a("bits", 4L), a("block_size", (long) Quantizer.BLOCK),
                a("accuracy_level", (long) o.accuracyLevel()));
    }

    /** The data file under construction: appends bytes, 64-byte aligned, and returns their offset. */
    static final class Data {
        private final OutputStream out;
        private long size;

        Data(OutputStream out) {
            this.out = out;
        }

        long write(MemorySegment src, long bytes) {
            try {
                long pad = (64 - size % 64) % 64;
                out.write(new byte[(int) pad]);
                size += pad;
                long at = size;
                byte[] buf = new byte[1 << 20];
                for (long p = 0; p < bytes; p += buf.length) {
                    int len = (int) Math.min(buf.length, bytes - p);
                    MemorySegment.copy(src, ValueLayout.JAVA_BYTE, p, buf, 0, len);
                    out.write(buf, 0, len);
                }
                size += bytes;
                return at;
            } catch (IOException e) {
                throw new CortadoException("cannot write " + DATA + ": " + e.getMessage(), e);
            }
        }
    }
}
