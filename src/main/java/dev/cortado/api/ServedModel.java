package dev.cortado.api;

import dev.cortado.audio.Audio;
import dev.cortado.model.whisper.Transcriber;
import dev.cortado.model.whisper.Transcript;
import dev.cortado.runtime.Cortado;
import java.util.concurrent.CompletableFuture;
import dev.cortado.engine.DecoderModel;
import dev.cortado.engine.EmbeddingModel;
import dev.cortado.engine.Engine;
import dev.cortado.engine.EngineOptions;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.tokenizer.Tokenizer;
import dev.cortado.tokenizer.TokenizerConfig;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The one model an API client ({@code batch}, later {@code serve}) serves, under its OpenAI name (the model folder's
 * name): a decoder behind an {@link Engine} (completions and chat), a seq2seq model behind a {@link Seq2SeqLane}
 * (completions = translation/summary), or an embedding model on one worker thread (embeddings). {@code defaults}
 * is the model's generation_config.json, onto which each request's knobs are applied. Closing it closes the model.
 */
public final class ServedModel implements AutoCloseable {
    public enum Kind { DECODER, SEQ2SEQ, EMBEDDING, SPEECH }

    final String name;
    final Kind kind;
    final GenerationConfig defaults;
    final Tokenizer tokenizer;
    final TokenizerConfig tokenizerConfig;
    final DecoderModel decoder;
    final Engine engine;
    final Cortado seq2seqModel;
    final Seq2SeqLane seq2seq;
    final EmbeddingModel embedder;
    final ExecutorService embedThread;
    final Transcriber transcriber;
    final ExecutorService speechCalls;

    private ServedModel(String name, Kind kind, GenerationConfig defaults, Tokenizer tokenizer,
                        TokenizerConfig tokenizerConfig, DecoderModel decoder, Engine engine, Cortado seq2seqModel,
                        EmbeddingModel embedder, Transcriber transcriber) {
        this.name = name;
        this.kind = kind;
        this.defaults = defaults;
        this.tokenizer = tokenizer;
        this.tokenizerConfig = tokenizerConfig;
        this.decoder = decoder;
        this.engine = engine;
        this.seq2seqModel = seq2seqModel;
        this.seq2seq = seq2seqModel == null ? null : new Seq2SeqLane(seq2seqModel);
        this.embedder = embedder;
        this.embedThread = embedder == null ? null
                : Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("cortado-embed").daemon().unstarted(r));
        this.transcriber = transcriber;
        this.speechCalls = transcriber == null ? null : transcriber.engine() != null ? Executors.newVirtualThreadPerTaskExecutor()
                : Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("cortado-speech").daemon().unstarted(r));
    }

    /** A decoder-only model on a new engine (owned); {@code tokenizerConfig} (may be null) holds the chat template. */
    public static ServedModel decoder(String name, DecoderModel model, Tokenizer tokenizer, TokenizerConfig tokenizerConfig,
                                      GenerationConfig defaults, EngineOptions options) {
        return decoder(name, model, tokenizer, tokenizerConfig, defaults, options, true);
    }

    /** As above; the model is closed with the served model only when {@code ownsModel} (benches share one). */
    public static ServedModel decoder(String name, DecoderModel model, Tokenizer tokenizer, TokenizerConfig tokenizerConfig,
                                      GenerationConfig defaults, EngineOptions options, boolean ownsModel) {
        Engine engine = new Engine(model, tokenizer, options, ownsModel);
        return new ServedModel(name, Kind.DECODER, defaults, tokenizer, tokenizerConfig, model, engine, null, null, null);
    }

    /** An encoder-decoder model through the {@link Cortado} facade (owned); the tokenizer counts prompt tokens. */
    public static ServedModel seq2seq(String name, Cortado model, Tokenizer tokenizer, GenerationConfig defaults) {
        return new ServedModel(name, Kind.SEQ2SEQ, defaults, tokenizer, null, null, null, model, null, null);
    }

    public static ServedModel embedding(String name, EmbeddingModel model) {
        return new ServedModel(name, Kind.EMBEDDING, null, null, null, null, null, null, model, null);
    }

    /**
     * A speech-to-text model (owned): {@code /v1/audio/transcriptions} and {@code /v1/audio/translations}. A
     * transcriber on a serving engine ({@link Transcriber#viaEngine}) takes concurrent requests, batched by the
     * engine; one without runs them one at a time on one thread.
     */
    public static ServedModel speech(String name, Transcriber transcriber) {
        return new ServedModel(name, Kind.SPEECH, null, null, null, null, transcriber.engine(), null, null, transcriber);
    }

    /** Transcribes (or translates) one request's audio; bad audio fails the future with a one-line error. */
    public CompletableFuture<TranscriptionResponse> transcribe(TranscriptionRequest r) {
        if (transcriber == null)
            throw new ApiException("unsupported_url", TranscriptionRequest.URL + " needs a speech-to-text (Whisper) model; '"
                    + name + "' is a " + kind.name().toLowerCase() + " model");
        return CompletableFuture.supplyAsync(() -> {
            Audio audio = Audio.parse(r.file(), r.fileName());
            Transcript t = transcriber.transcribe(audio, r.options());
            return TranscriptionResponse.of(r, t, audio.seconds());
        }, speechCalls);
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    /** The engine (decoders only), for stats. */
    public Engine engine() {
        return engine;
    }

    @Override
    public void close() {
        if (engine != null && transcriber == null) engine.close();   // a transcriber closes its own engine
        if (seq2seq != null) seq2seq.close();
        if (seq2seqModel != null) seq2seqModel.close();
        if (embedThread != null) {
            embedThread.shutdown();
            try {
                embedThread.awaitTermination(1, java.util.concurrent.TimeUnit.DAYS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (embedder != null) embedder.close();
        if (speechCalls != null) {
            speechCalls.shutdown();
            try {
                speechCalls.awaitTermination(1, java.util.concurrent.TimeUnit.DAYS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (transcriber != null) transcriber.close();
    }
}
