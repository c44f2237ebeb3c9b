package dev.cortado.model.whisper;

import dev.cortado.CortadoException;
import dev.cortado.audio.Audio;
import dev.cortado.audio.LogMel;
import dev.cortado.engine.Engine;
import dev.cortado.engine.EngineOptions;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.generate.LogitsProcessor;
import dev.cortado.generate.WhisperProcessors;
import dev.cortado.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleConsumer;

/**
 * Speech → text with a {@link WhisperModel}, following transformers' {@code WhisperForConditionalGeneration.generate}:
 * log-mel features of the whole audio; language detection on the first window when no language is given
 * (argmax over the language tokens after start-of-transcript); then, without timestamps, one decode of the (≤ 30 s)
 * window; with timestamps (always for audio longer than 30 s), HF's seek loop: decode a 30 s window, cut it into
 * segments at timestamp pairs, resume at the last complete segment's end (or at the window's end after a lone
 * final timestamp). Generation itself is the shared {@link Generator} (greedy or beam) with Whisper's rules as the
 * model's logits processors.
 */
public final class Transcriber implements AutoCloseable {
    /**
     * Options of one transcription; null language = detect, null maxNewTokens = up to max_length; temperature 0 =
     * greedy (or beam search), above 0 = sampling at that temperature (transformers' do_sample with the model's
     * generation_config.json otherwise); {@code fallback} (null: none) replaces {@code temperature} with a schedule.
     */
    public record Options(String language, String task, boolean timestamps, int beams, Integer maxNewTokens, double temperature,
                          Fallback fallback) {
        public Options(String language, String task, boolean timestamps, int beams, Integer maxNewTokens) {
            this(language, task, timestamps, beams, maxNewTokens, 0, null);
        }

        public Options(String language, String task, boolean timestamps, int beams, Integer maxNewTokens, double temperature) {
            this(language, task, timestamps, beams, maxNewTokens, temperature, null);
        }

        public Options withFallback(Fallback f) {
            return new Options(language, task, timestamps, beams, maxNewTokens, temperature, f);
        }

        public static Options defaults() {
            return new Options(null, "transcribe", false, 1, null);
        }
    }

    static final double TIME_PRECISION = 0.02;   // seconds per timestamp token
    static final int INPUT_STRIDE = 2;           // feature frames per encoder position

    private final WhisperModel model;
    private final Tokenizer tokenizer;
    private final WhisperSettings settings;
    private final LogMel frontend;
    private final double frameSeconds;   // hop / sampling rate (0.01 s)
    private Engine engine;               // null: windows run on the model directly, one at a time

    public Transcriber(WhisperModel model, Tokenizer tokenizer, WhisperSettings settings, LogMel frontend) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.settings = settings;
        this.frontend = frontend;
        this.frameSeconds = frontend.hopLength() / (double) frontend.sampleRate();
        if (tokenizer != null && tokenizer.vocabSize() > model.vocabSize())
            throw new CortadoException("tokenizer has " + tokenizer.vocabSize() + " tokens but the model's vocabulary has "
                    + model.vocabSize() + ": they do not belong together");
        if (frontend.framesPerWindow() != model.config().framesPerWindow())
            throw new CortadoException("preprocessor_config.json gives " + frontend.framesPerWindow() + " frames per window but the encoder takes "
                    + model.config().framesPerWindow() + "; the files do not belong together");
    }

    /**
     * Opens a Whisper folder (safetensors or Optimum ONNX, config.json, generation_config.json, preprocessor_config.json,
     * tokenizer.json unless {@code tokenizerJson} is given) on {@code device}; closing the transcriber frees the model.
     * <pre>{@code
     * try (Transcriber t = Transcriber.open(Path.of("whisper-tiny"), Device.cpu(), null)) {
     *     Transcript r = t.transcribe(Audio.read(Path.of("speech.wav")), Transcriber.Options.defaults());
     *     Transcript s = t.transcribe(new Audio(samples16k, 16000), new Transcriber.Options("en", "transcribe", true, 1, null));
     * }
     * }</pre>
     */
    public static Transcriber open(java.nio.file.Path dir, dev.cortado.device.Device device, java.nio.file.Path tokenizerJson) {
        WhisperConfig.load(dir);
        WhisperSettings settings = WhisperSettings.load(dir);
        java.nio.file.Path tf = tokenizerJson != null ? tokenizerJson : dir.resolve("tokenizer.json");
        if (!java.nio.file.Files.isRegularFile(tf)) throw new CortadoException("no tokenizer.json for " + dir + " (pass --tokenizer PATH)");
        Tokenizer tok = Tokenizer.fromFile(tf);
        dev.cortado.backend.Backend be = device.backend(dev.cortado.tensor.DType.F32);
        WhisperModel m;
        try {
            m = WhisperFamily.open(dir, be);
        } catch (RuntimeException e) {
            be.close();
            throw e;
        }
        try {
            return new Transcriber(m, tok, settings, LogMel.fromPreprocessorConfig(dir, m.config().melBins()));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * Runs every window through a serving {@link Engine} over this model (owned: closed with the transcriber), so
     * that concurrent {@link #transcribe} calls share its batches: encoder runs and decode steps of different audio
     * in the same forward passes. Same tokens as the direct path. Without it, the transcriber is for one thread.
     */
    public Transcriber viaEngine(EngineOptions options) {
        if (engine != null) throw new IllegalStateException("already on an engine");
        engine = new Engine(model.seq2seq(), tokenizer, options, false);
        return this;
    }

    /** The serving engine ({@link #viaEngine}), or null. */
    public Engine engine() {
        return engine;
    }

    /** Closes the engine (if any), then the model (and its backend). */
    @Override
    public void close() {
        if (engine != null) engine.close();
        model.close();
    }

    public Transcript transcribe(Audio audio, Options o) {
        return transcribe(audio, o, null);
    }

    /** {@code progress} (may be null) receives the fraction of audio done after each window. */
    public Transcript transcribe(Audio audio, Options o, DoubleConsumer progress) {
        float[] x = audio.resampled(frontend.sampleRate()).samples();
        if (x.length == 0) throw new CortadoException("the audio is empty (0 samples); nothing to transcribe");
        boolean longForm = x.length > frontend.samplesPerWindow();
        float[][] features = longForm ? frontend.whole(x) : frontend.window(x);
        int maxFrames = longForm ? x.length / frontend.hopLength() : features[0].length;
        return transcribeFeatures(features, maxFrames, o, longForm, progress);
    }

    /** Features [mel][frames] (HF's input_features of one audio); maxFrames: frames holding audio. */
    public Transcript transcribeFeatures(float[][] features, int maxFrames, Options o, boolean longForm, DoubleConsumer progress) {
        int window = model.config().framesPerWindow();
        boolean timestamps = o.timestamps() || longForm;
        if (o.beams() < 1) throw new CortadoException("--beams must be ≥ 1, got " + o.beams());
        if (!(o.temperature() >= 0 && o.temperature() <= 2)) throw new CortadoException("temperature must be in [0, 2], got " + o.temperature());
        if (o.temperature() > 0 && o.beams() > 1) throw new CortadoException("sampling (temperature > 0) with beams is not supported; use one of them");
        String task = o.task() == null ? "transcribe" : o.task();
        Integer lang = null;
        if (settings.multilingual()) {
            lang = o.language() != null ? settings.languageId(o.language()) : detectLanguage(slice(features, 0, window));
        } else if (o.language() != null && !o.language().equals("en")) {
            throw new CortadoException("this Whisper model is English-only; drop --language or use a multilingual model");
        }
        List<Integer> prefix = new ArrayList<>();
        if (settings.multilingual()) {
            prefix.add(lang);
            prefix.add(settings.taskId(task));
        }
        if (!timestamps) prefix.add(settings.noTimestampsId());
        int[] prompt = prefix.stream().mapToInt(Integer::intValue).toArray();
        GenerationConfig cfg = settings.generation().encoderDecoder(true).numBeams(o.beams()).numReturnSequences(1)
                .doSample(o.temperature() > 0).maxNewTokens(o.maxNewTokens());
        if (o.temperature() > 0) cfg = cfg.temperature((float) o.temperature());
        if (o.maxNewTokens() == null) cfg = cfg.maxLength(Math.min(cfg.maxLength(), model.config().maxTargetPositions()));
        List<LogitsProcessor> rules = new ArrayList<>();
        rules.add(new WhisperProcessors.SuppressTokensAtBegin(settings.beginSuppressTokens()));
        rules.add(new WhisperProcessors.SuppressTokens(settings.suppressTokens()));
        if (timestamps) rules.add(new WhisperProcessors.Timestamps(settings.noTimestampsId(), settings.eosId(), settings.maxInitialTimestampIndex()));

        List<Transcript.Segment> segments = new ArrayList<>();
        List<Integer> all = new ArrayList<>();
        int seek = 0;
        while (seek < maxFrames) {
            int num = Math.min(maxFrames - seek, window);
            Attempt at = decode(slice(features, seek, num), prompt, cfg, rules, o.fallback());
            int[] generated = at.tokens();
            if (at.skipped()) {   // transformers' should_skip: silence, no segment; the next window starts after this one
                seek += num;
                if (progress != null) progress.accept(Math.min(1.0, seek / (double) maxFrames));
                if (!timestamps) break;
                continue;
            }
            double offset = seek * TIME_PRECISION / INPUT_STRIDE;
            if (!timestamps) {
                segments.add(at.segment(offset, offset + (int) (num * frameSeconds / TIME_PRECISION) * TIME_PRECISION,
                        text(generated), generated));
                for (int t : generated) all.add(t);
                break;
            }
            seek += cut(at, offset, num, segments, all);
            if (progress != null) progress.accept(Math.min(1.0, seek / (double) maxFrames));
        }
        int[] tokens = all.stream().mapToInt(Integer::intValue).toArray();
        StringBuilder text = new StringBuilder();
        for (Transcript.Segment s : segments) text.append(s.text());
        return new Transcript(text.toString(), lang == null ? "en" : settings.languageCode(lang), segments, tokens);
    }

    /** transformers' _retrieve_segment: adds segments, returns how many frames to advance. */
    private int cut(Attempt at, double offset, int numFrames, List<Transcript.Segment> out, List<Integer> all) {
        int[] seq = at.tokens();
        int begin = settings.timestampBegin(), n = seq.length;
        boolean singleEnding = n >= 2 && seq[n - 2] < begin && seq[n - 1] >= begin;   // HF: last two == [text, timestamp]
        List<Integer> slices = new ArrayList<>();
        for (int i = 0; i + 1 < n; i++) if (seq[i] >= begin && seq[i + 1] >= begin) slices.add(i + 1);
        for (int t : seq) all.add(t);
        if (!slices.isEmpty()) {
            if (singleEnding) slices.add(n);
            else slices.set(slices.size() - 1, slices.getLast() + 1);
            int last = 0;
            for (int i = 0; i < slices.size(); i++) {
                int cur = slices.get(i);
                boolean lastSlice = i == slices.size() - 1;
                int[] toks = Arrays.copyOfRange(seq, last, cur);
                int endIdx = !lastSlice || singleEnding ? toks.length - 1 : toks.length - 2;
                out.add(at.segment(offset + (toks[0] - begin) * TIME_PRECISION, offset + (toks[endIdx] - begin) * TIME_PRECISION,
                        text(toks), toks));
                last = cur;
            }
            if (singleEnding) return numFrames;
            return (seq[last - 2] - begin) * INPUT_STRIDE;
        }
        double lastPos = (int) (numFrames * frameSeconds / TIME_PRECISION);
        int lastTs = -1;
        for (int t : seq) if (t >= begin) lastTs = t;
        if (lastTs >= 0 && lastTs != begin) lastPos = lastTs - begin;
        out.add(at.segment(offset, offset + lastPos * TIME_PRECISION, text(seq), seq));
        return numFrames;
    }

    /** One window's kept decoding attempt: tokens without the final EOS, and transformers' fallback measures. */
    record Attempt(int[] tokens, double temperature, double avgLogprob, double compressionRatio, double noSpeechProb, boolean skipped) {
        Transcript.Segment segment(double start, double end, String text, int[] toks) {
            return new Transcript.Segment(start, end, text, toks, temperature, avgLogprob, compressionRatio, noSpeechProb);
        }

        Attempt noSpeech(double p, boolean skip) {
            return new Attempt(skip ? new int[0] : tokens, temperature, avgLogprob, compressionRatio, p, skip);
        }
    }

    /** One window: without a fallback, one attempt at the options' temperature; with one, its schedule (transformers' generate_with_fallback). */
    private Attempt decode(float[][] window, int[] prompt, GenerationConfig cfg, List<LogitsProcessor> rules, Fallback fallback) {
        if (fallback == null) return attempt(window, prompt, cfg, rules, cfg.sampling() ? cfg.temperature() : 0);
        double noSpeech = fallback.noSpeechThreshold() == null ? Double.NaN : noSpeechProb(window);
        Attempt a = null;
        for (double t : fallback.temperatures()) {
            a = attempt(window, prompt, cfg, rules, t).noSpeech(noSpeech, false);
            if (fallback.skip(a.avgLogprob(), noSpeech)) return a.noSpeech(noSpeech, true);
            if (!fallback.needed(a.compressionRatio(), a.avgLogprob())) break;
        }
        return a;
    }

    /** Encode, generate after the prompt at temperature t (0: greedy or beams; above: sampling, one beam), measure, drop the final EOS. */
    private Attempt attempt(float[][] window, int[] prompt, GenerationConfig cfg, List<LogitsProcessor> rules, double t) {
        GenerationConfig c = t > 0 ? cfg.doSample(true).temperature((float) t).numBeams(1) : cfg.doSample(false);
        List<LogitsProcessor> chain = new ArrayList<>(rules);
        Fallback.ScoreRecorder recorder = c.numBeams() == 1 ? new Fallback.ScoreRecorder() : null;
        if (recorder != null) chain.add(recorder);
        LanguageModel lm = withRules(bind(window, c.numBeams()), chain);
        GenerationResult r = new Generator(lm, null, c).generateIds(new int[][] {prompt}).getFirst();
        int[] ids = r.ids();
        double avg = ids.length == 0 ? 0 : recorder != null ? recorder.average(ids[ids.length - 1]) : r.score();
        double ratio = Fallback.compressionRatio(ids, model.vocabSize());
        int n = ids.length;
        while (n > 0 && ids[n - 1] == settings.eosId()) n--;
        return new Attempt(Arrays.copyOf(ids, n), t, avg, ratio, Double.NaN, false);
    }

    /** Argmax of the first decoder step's logits over the language tokens (transformers' detect_language). */
    int detectLanguage(float[][] window) {
        float[] logits = sotLogits(window);
        int best = -1;
        for (int id : settings.languages().values()) if (best < 0 || logits[id] > logits[best]) best = id;
        if (best < 0) throw new CortadoException("generation_config.json has no lang_to_id; pass --language");
        return best;
    }

    /** The decoder's logits after {@code <|startoftranscript|>} alone on one window. */
    private float[] sotLogits(float[][] window) {
        try (DecoderSession s = bind(window, 1).newSession(1)) {
            return s.step(new int[][] {{settings.startId()}}, null)[0];
        }
    }

    /** transformers' WhisperNoSpeechDetection: softmax of the logits after start-of-transcript at no_timestamps - 1. */
    double noSpeechProb(float[][] window) {
        float[] logits = sotLogits(window);
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : logits) max = Math.max(max, v);
        for (float v : logits) sum += Math.exp(v - max);
        return Math.exp(logits[settings.noTimestampsId() - 1] - max) / sum;
    }

    /** The decoder bound to one window's encoding: on the engine (encoded in its batches) or directly. */
    private LanguageModel bind(float[][] window, int rows) {
        if (engine != null) return engine.bind(model.source(window));
        return model.bind(model.encodeFeatures(new float[][][] {window}), rows);
    }

    private String text(int[] toks) {
        int begin = settings.timestampBegin();
        return tokenizer == null ? "" : tokenizer.decode(Arrays.stream(toks).filter(t -> t < begin).toArray(), true);
    }

    /** frames [from, from+n) of every bin, zero-padded to a whole window (as transformers pads with 0). */
    private float[][] slice(float[][] f, int from, int n) {
        int window = model.config().framesPerWindow();
        float[][] out = new float[f.length][window];
        for (int m = 0; m < f.length; m++) System.arraycopy(f[m], from, out[m], 0, Math.max(0, Math.min(n, f[m].length - from)));
        return out;
    }

    private static LanguageModel withRules(LanguageModel lm, List<LogitsProcessor> rules) {
        return new LanguageModel() {
            @Override public int vocabSize() { return lm.vocabSize(); }
            @Override public int maxPositions() { return lm.maxPositions(); }
            @Override public DecoderSession newSession(int batch) { return lm.newSession(batch); }
            @Override public List<LogitsProcessor> logitsProcessors() { return rules; }
        };
    }
}
