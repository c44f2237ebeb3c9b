package dev.cortado.model;

import dev.cortado.backend.Backend;
import dev.cortado.engine.Seq2SeqModel;
import dev.cortado.safetensors.Safetensors;
import java.nio.file.Path;

/** The two weight sources of a seq2seq family: HF safetensors by name, or Optimum ONNX traced to the same names. */
public final class Seq2SeqSources {
    private Seq2SeqSources() {}

    /** A family's single build function over HF parameter names. */
    public interface Builder {
        Seq2SeqModel build(ModelConfig config, WeightNames weights, Backend be, String source);
    }

    public static Seq2SeqModel safetensors(Path dir, Backend be, Builder family) {
        ModelConfig c = ModelConfig.load(dir.resolve("config.json"));
        try (Safetensors st = Safetensors.openFolder(dir)) {
            return family.build(c, new WeightNames(be, st.tensors(), dir.resolve("model.safetensors").toString()), be, "safetensors");
        }
    }

    /** From the Optimum ONNX files (encoder_model.onnx + decoder_model.onnx), weights found by graph tracing. */
    public static Seq2SeqModel onnx(Path dir, Backend be, Builder family) {
        ModelConfig c = ModelConfig.find(dir);
        try (Seq2SeqTracer t = Seq2SeqTracer.open(dir, c, be)) {
            return family.build(c, t.names(), be, "onnx");
        }
    }
}
