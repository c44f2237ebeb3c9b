package dev.cortado.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.audio.Audio;
import dev.cortado.audio.LogMel;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.bench.SafetensorsWriter.Entry;
import dev.cortado.bench.SafetensorsWriter.Init;
import dev.cortado.model.whisper.Transcriber;
import dev.cortado.model.whisper.Transcript;
import dev.cortado.model.whisper.WhisperFamily;
import dev.cortado.model.whisper.WhisperModel;
import dev.cortado.model.whisper.WhisperSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Speech-to-text speed: real-time factor (processing seconds ÷ audio seconds) of one 30 s window on Whisper-shaped
 * synthetic models (seeded random weights, generated once under the synthetic cache), split into frontend (log-mel),
 * encoder, and decoding a fixed number of tokens (EOS is suppressed so every run decodes exactly that many; real
 * speech averages roughly 2–3 tokens per second of audio).
 */
public final class TranscribeBench {
    private TranscribeBench() {}

    /** name, d_model, layers (each side), heads, ffn. */
    record Shape(String name, int d, int layers, int heads, int ffn) {}

    static final List<Shape> SHAPES = List.of(new Shape("whisper-tiny", 384, 4, 6, 1536), new Shape("whisper-base", 512, 6, 8, 2048),
            new Shape("whisper-smoke", 64, 2, 2, 128));

    public static Report run(List<String> names, int tokens, int repeats, PrintWriter out) {
        Report rep = new Report("transcribe");
        rep.meta.put("audio_seconds", 30);
        rep.meta.put("decoded_tokens", tokens);
        rep.columns.addAll(List.of("model", "frontend s", "encoder s", "decode s", "ms/token", "total s", "RTF"));
        out.printf("bench transcribe: one 30 s window, %d decoded tokens, %d repeats (median)%n", tokens, repeats);
        out.printf("%-14s %10s %10s %10s %9s %9s %7s%n", "model", "frontend s", "encoder s", "decode s", "ms/tok", "total s", "RTF");
        float[] audio = tone(30 * 16000);
        List<String> cats = new ArrayList<>();
        double[] rtfs = new double[names.size()];
        for (int k = 0; k < names.size(); k++) {
            String name = names.get(k);
            Shape s = SHAPES.stream().filter(x -> x.name().equals(name)).findFirst()
                    .orElseThrow(() -> new CortadoException("unknown transcribe model '" + name + "' (whisper-tiny, whisper-base, whisper-smoke)"));
            Path dir = synthetic(s);
            double[] fe = new double[repeats], enc = new double[repeats], tot = new double[repeats];
            try (WhisperModel m = WhisperFamily.fromSafetensors(dir, new CpuBackend())) {
                LogMel mel = LogMel.fromPreprocessorConfig(dir, 80);
                Transcriber tr = new Transcriber(m, null, WhisperSettings.load(dir), mel);
                var opts = new Transcriber.Options("en", "transcribe", false, 1, tokens);
                tr.transcribe(new Audio(audio, 16000), opts);   // warm-up
                for (int r = 0; r < repeats; r++) {
                    long t0 = System.nanoTime();
                    float[][] f = mel.window(audio);
                    long t1 = System.nanoTime();
                    m.encodeFeatures(new float[][][] {f});
                    long t2 = System.nanoTime();
                    Transcript t = tr.transcribe(new Audio(audio, 16000), opts);
                    long t3 = System.nanoTime();
                    if (t.tokens().length != tokens) throw new IllegalStateException("decoded " + t.tokens().length + " tokens, expected " + tokens);
                    fe[r] = (t1 - t0) / 1e9;
                    enc[r] = (t2 - t1) / 1e9;
                    tot[r] = (t3 - t2) / 1e9;
                }
            }
            double f = median(fe), e = median(enc), total = median(tot), dec = Math.max(0, total - f - e);
            double rtf = total / 30.0;
            Map<String, Object> row = rep.row();
            row.put("model", name);
            row.put("frontend s", r3(f));
            row.put("encoder s", r3(e));
            row.put("decode s", r3(dec));
            row.put("ms/token", r3(dec * 1000 / tokens));
            row.put("total s", r3(total));
            row.put("RTF", r3(rtf));
            out.printf("%-14s %10.3f %10.3f %10.3f %9.2f %9.3f %7.3f%n", name, f, e, dec, dec * 1000 / tokens, total, rtf);
            out.flush();
            cats.add(name);
            rtfs[k] = rtf;
        }
        Map<String, double[]> series = new LinkedHashMap<>();
        series.put("cortado cpu", rtfs);
        rep.charts.add(new Report.Chart("rtf", "Whisper real-time factor (30 s window, " + tokens + " tokens)", "model",
                "RTF (lower is faster)", cats, series));
        rep.notes.add("synthetic random weights: decode time per token is what matters; EOS suppressed so every run decodes " + tokens + " tokens");
        return rep;
    }

    private static double median(double[] a) {
        double[] c = a.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }

    private static double r3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** A deterministic 30 s test signal: two tones and seeded noise. */
    static float[] tone(int n) {
        float[] x = new float[n];
        java.util.Random rnd = new java.util.Random(1);
        for (int i = 0; i < n; i++) x[i] = (float) (0.3 * Math.sin(2 * Math.PI * 220 * i / 16000.0) + 0.1 * Math.sin(2 * Math.PI * 1870 * i / 16000.0)
                + 0.02 * rnd.nextGaussian());
        return x;
    }

    /** A Whisper-shaped HF folder with seeded random weights under the synthetic cache (written once). */
    static Path synthetic(Shape s) {
        Path dir = SyntheticModels.cacheRoot().resolve(s.name());
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) return dir;
        try {
            Files.createDirectories(dir);
            ObjectMapper om = new ObjectMapper();
            ObjectNode c = om.createObjectNode().put("model_type", "whisper").put("d_model", s.d()).put("encoder_layers", s.layers())
                    .put("decoder_layers", s.layers()).put("encoder_attention_heads", s.heads()).put("decoder_attention_heads", s.heads())
                    .put("encoder_ffn_dim", s.ffn()).put("decoder_ffn_dim", s.ffn()).put("num_mel_bins", 80).put("max_source_positions", 1500)
                    .put("max_target_positions", 448).put("vocab_size", 51865).put("activation_function", "gelu").put("scale_embedding", false);
            om.writeValue(dir.resolve("config.json").toFile(), c);
            ObjectNode g = om.createObjectNode().put("decoder_start_token_id", 50258).put("eos_token_id", 50257).put("pad_token_id", 50257)
                    .put("no_timestamps_token_id", 50363).put("max_length", 448).put("is_multilingual", true);
            g.putObject("lang_to_id").put("<|en|>", 50259);
            g.putObject("task_to_id").put("transcribe", 50359).put("translate", 50358);
            g.putArray("suppress_tokens").add(50257);   // decode a fixed number of tokens
            g.putArray("begin_suppress_tokens").add(220).add(50257);
            om.writeValue(dir.resolve("generation_config.json").toFile(), g);
            List<Entry> e = new ArrayList<>();
            int d = s.d();
            Init w = Init.random(0.02), one = Init.constant(1f), zero = Init.constant(0f);
            e.add(new Entry("model.encoder.conv1.weight", new long[] {d, 80, 3}, w));
            e.add(new Entry("model.encoder.conv1.bias", new long[] {d}, zero));
            e.add(new Entry("model.encoder.conv2.weight", new long[] {d, d, 3}, w));
            e.add(new Entry("model.encoder.conv2.bias", new long[] {d}, zero));
            e.add(new Entry("model.encoder.embed_positions.weight", new long[] {1500, d}, w));
            e.add(new Entry("model.decoder.embed_tokens.weight", new long[] {51865, d}, w));
            e.add(new Entry("model.decoder.embed_positions.weight", new long[] {448, d}, w));
            for (String side : new String[] {"encoder", "decoder"}) {
                for (int l = 0; l < s.layers(); l++) {
                    String p = "model." + side + ".layers." + l + ".";
                    List<String> attns = side.equals("encoder") ? List.of("self_attn") : List.of("self_attn", "encoder_attn");
                    for (String a : attns) {
                        for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                            e.add(new Entry(p + a + "." + proj + ".weight", new long[] {d, d}, w));
                            if (!proj.equals("k_proj")) e.add(new Entry(p + a + "." + proj + ".bias", new long[] {d}, zero));
                        }
                        e.add(new Entry(p + a + "_layer_norm.weight", new long[] {d}, one));
                        e.add(new Entry(p + a + "_layer_norm.bias", new long[] {d}, zero));
                    }
                    e.add(new Entry(p + "fc1.weight", new long[] {s.ffn(), d}, w));
                    e.add(new Entry(p + "fc1.bias", new long[] {s.ffn()}, zero));
                    e.add(new Entry(p + "fc2.weight", new long[] {d, s.ffn()}, w));
                    e.add(new Entry(p + "fc2.bias", new long[] {d}, zero));
                    e.add(new Entry(p + "final_layer_norm.weight", new long[] {d}, one));
                    e.add(new Entry(p + "final_layer_norm.bias", new long[] {d}, zero));
                }
                e.add(new Entry("model." + side + ".layer_norm.weight", new long[] {d}, one));
                e.add(new Entry("model." + side + ".layer_norm.bias", new long[] {d}, zero));
            }
            SafetensorsWriter.write(dir.resolve("model.safetensors"), e, 23, Map.of("format", "pt"));
            return dir;
        } catch (IOException ex) {
            throw new CortadoException("cannot write synthetic model " + dir + ": " + ex.getMessage(), ex);
        }
    }
}
