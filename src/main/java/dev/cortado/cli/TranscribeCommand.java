package dev.cortado.cli;

import dev.cortado.registry.ModelKind;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.audio.Audio;
import dev.cortado.audio.LogMel;
import dev.cortado.model.whisper.Transcriber;
import dev.cortado.model.whisper.Transcript;
import dev.cortado.model.whisper.WhisperFamily;
import dev.cortado.model.whisper.WhisperModel;
import dev.cortado.model.whisper.WhisperSettings;
import dev.cortado.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cortado transcribe}: speech → text with a Whisper model (HF safetensors folder). */
@Command(name = "transcribe", mixinStandardHelpOptions = true,
        description = "Speech to text with a Whisper model: WAV or FLAC files (any rate, mono or stereo) in, text or JSON out.")
public final class TranscribeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, description = "Whisper model folder: HF safetensors or Optimum ONNX (encoder_model.onnx + decoder_model.onnx), with config.json, generation_config.json, preprocessor_config.json") Path model;
    @Option(names = "--tokenizer", description = "tokenizer.json (default: in the model folder)") Path tokenizer;
    @Option(names = "--language", description = "spoken language code, e.g. en (default: detected)") String language;
    @Option(names = "--task", defaultValue = "transcribe", description = "transcribe or translate (to English)") String task;
    @Option(names = "--timestamps", description = "segments with start/end times (always on for audio over 30 s)") boolean timestamps;
    @Option(names = "--beams", defaultValue = "1", description = "beam width") int beams;
    @Option(names = "--max-new-tokens", description = "maximum tokens per 30 s window (default: up to max_length)") Integer maxNewTokens;
    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (or beam search); above 0 samples") double temperature;
    @Option(names = "--fallback", description = "temperature fallback as transformers: each 30 s window is decoded again at "
            + "0.2, 0.4, ... 1.0 while its compression ratio is > 1.35 or its average log-probability < -1.0; a window "
            + "with log-probability < -1.0 and no-speech probability > 0.6 is skipped as silence") boolean fallback;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N]") String device;
    @Option(names = "--dtype", defaultValue = "f32", description = "weights: f32, bf16, f16") String dtype;
    @Option(names = "--json", description = "print {\"file\",\"text\",\"language\",\"segments\":[{\"start\",\"end\",\"text\"}]} per file") boolean json;
    @Parameters(arity = "1..*", paramLabel = "AUDIO", description = "WAV or FLAC files") List<Path> audio;

    @Override
    public Integer call() {
        if (!task.equals("transcribe") && !task.equals("translate"))
            throw new CortadoException("--task must be transcribe or translate, got '" + task + "'");
        if (beams < 1) throw new CortadoException("--beams must be ≥ 1, got " + beams);
        if (maxNewTokens != null && maxNewTokens < 1) throw new CortadoException("--max-new-tokens must be ≥ 1, got " + maxNewTokens);
        if (!Files.isDirectory(model)) throw new CortadoException("model folder not found: " + model);
        dev.cortado.device.Device target = Devices.parse(device);
        dev.cortado.tensor.DType dt = Devices.dtype(dtype);
        Models.require(model, ModelKind.SPEECH, "transcribe");   // a text model is pointed to its command
        dev.cortado.model.whisper.WhisperConfig.load(model);
        WhisperSettings settings = WhisperSettings.load(model.toAbsolutePath());
        List<Audio> inputs = audio.stream().map(Audio::read).toList();   // bad files fail before the model loads
        for (int i = 0; i < inputs.size(); i++)
            if (inputs.get(i).samples().length == 0) throw new CortadoException(audio.get(i) + ": the audio is empty (0 samples)");
        Tokenizer tok = ModelFiles.tokenizer(model, tokenizer);
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        ObjectMapper om = new ObjectMapper();
        var be = target.backend(dt);
        try (WhisperModel m = open(be)) {
            Transcriber tr = new Transcriber(m, tok, settings, LogMel.fromPreprocessorConfig(model, m.config().melBins()));
            var opts = new Transcriber.Options(language, task, timestamps, beams, maxNewTokens, temperature,
                    fallback ? dev.cortado.model.whisper.Fallback.defaults() : null);
            for (int i = 0; i < inputs.size(); i++) {
                Audio a = inputs.get(i);
                boolean bar = a.seconds() > 30;
                Transcript t = tr.transcribe(a, opts, bar ? f -> progress(err, f, a.seconds()) : null);
                if (bar) err.println();
                if (json) {
                    ObjectNode o = om.createObjectNode().put("file", audio.get(i).toString()).put("text", t.text().strip())
                            .put("language", t.language());
                    ArrayNode segs = o.putArray("segments");
                    for (Transcript.Segment s : t.segments())
                        segs.addObject().put("start", round(s.start())).put("end", round(s.end())).put("text", s.text().strip());
                    out.println(o);
                } else if (timestamps || a.seconds() > 30) {
                    for (Transcript.Segment s : t.segments()) out.printf("[%s → %s] %s%n", time(s.start()), time(s.end()), s.text().strip());
                } else {
                    out.println(t.text().strip());
                }
                out.flush();
            }
        }
        return 0;
    }

    private WhisperModel open(dev.cortado.backend.Backend be) {
        try {
            return WhisperFamily.open(model, be);
        } catch (RuntimeException e) {
            be.close();
            throw e;
        }
    }

    private static double round(double s) {
        return Math.round(s * 100) / 100.0;
    }

    private static String time(double s) {
        int m = (int) (s / 60);
        return String.format("%02d:%05.2f", m, s - 60 * m);
    }

    private static void progress(PrintWriter err, double f, double seconds) {
        int width = 30, filled = (int) (f * width);
        err.printf("\r[%s%s] %.0f/%.0f s ", "#".repeat(filled), " ".repeat(width - filled), f * seconds, seconds);
        err.flush();
    }
}
