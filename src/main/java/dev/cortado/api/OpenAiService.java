package dev.cortado.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.CortadoException;
import dev.cortado.engine.Completion;
import dev.cortado.engine.Request;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.constraint.Constraint;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * The OpenAI endpoints ({@code /v1/completions}, {@code /v1/chat/completions}, {@code /v1/embeddings}) over one
 * {@link ServedModel}: parses a request body, maps its knobs onto the model's generation config, checks it against
 * the model's context, runs it (decoders through the engine, so concurrent requests are batched) and builds the
 * OpenAI response object. Thread-safe. {@code batch} calls {@link #batchLine}; {@code serve} calls {@link #call},
 * which also streams. Cancelling a returned future cancels its engine requests (their KV blocks are freed).
 */
public final class OpenAiService {
    /** OpenAI's default max_tokens for /v1/completions. */
    public static final int DEFAULT_COMPLETION_TOKENS = 16;

    /** Observes one {@link #call}: the chunks of a streamed request, in order, and its first generated token. */
    public interface Listener {
        /** A {@link CompletionResponse} or {@link ChatCompletionChunk} of a {@code stream: true} request. */
        void chunk(Object chunk);

        /** The first token of any choice was generated (seq2seq and embeddings: when the result is ready). */
        default void firstToken() {}
    }

    private final ServedModel m;
    private final boolean strict;

    /** The strict service ({@code batch}): unknown fields are errors. */
    public OpenAiService(ServedModel model) {
        this(model, true);
    }

    /** {@code strict = false} ({@code serve}): unknown fields are ignored, as OpenAI's server does. */
    public OpenAiService(ServedModel model, boolean strict) {
        this.m = model;
        this.strict = strict;
    }

    public ServedModel model() {
        return m;
    }

    /**
     * Runs one request. A bad request throws an {@link ApiException} now (or fails the future when the problem shows
     * during generation); the future completes with a {@link CompletionResponse}, {@link ChatCompletionResponse} or
     * {@link EmbeddingResponse}.
     */
    public CompletableFuture<Object> handle(String url, JsonNode body) {
        return call(url, body, null);
    }

    /**
     * Runs one request, streamed when it says {@code stream: true}: its chunks go to {@code listener} (which may be
     * null only for requests that do not stream) and the future completes with the {@link Usage} after the last
     * chunk; otherwise the future completes with the response object. A bad request throws an {@link ApiException}
     * now, before any chunk.
     */
    public CompletableFuture<Object> call(String url, JsonNode body, Listener listener) {
        return switch (url) {
            case CompletionRequest.URL -> {
                CompletionRequest r = CompletionRequest.parse(body, strict);
                yield completions(r, streaming(r.stream(), listener), listener);
            }
            case ChatRequest.URL -> {
                ChatRequest r = ChatRequest.parse(body, strict);
                yield chat(r, streaming(r.stream(), listener), listener);
            }
            case EmbeddingRequest.URL -> embeddings(EmbeddingRequest.parse(body, strict), listener);
            default -> throw new ApiException("invalid_url", "url '" + url + "' is not supported; use one of "
                    + String.join(", ", BatchInput.URLS.stream().sorted().toList()));
        };
    }

    private static StreamOptions streaming(StreamOptions s, Listener listener) {
        if (s.stream() && listener == null) throw ApiException.param("stream: true is not supported here; remove it");
        return s;
    }

    /** One batch input line to its output line; the future never fails (errors become error lines). */
    public CompletableFuture<BatchOutput> batchLine(BatchInput in) {
        try {
            in.check();
            return handle(in.url(), in.body()).handle((body, e) -> e == null ? BatchOutput.success(in.key(), body)
                    : failure(in.key(), e));
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failure(in.key(), e));
        }
    }

    /** The error line for a request that failed with {@code t}. */
    public static BatchOutput failure(String customId, Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null)
            t = t.getCause();
        if (t instanceof ApiException a) return BatchOutput.failure(customId, a.code(), a.getMessage());
        if (t instanceof CancellationException) return BatchOutput.failure(customId, "cancelled", "request cancelled");
        if (t instanceof CortadoException) return BatchOutput.failure(customId, "invalid_request", t.getMessage());
        return BatchOutput.failure(customId, "server_error", t.getClass().getSimpleName() + ": " + t.getMessage()
                + " (an internal error: please report it)");
    }

    /** Generated tokens in a response body (for progress). */
    public static int completionTokens(Object body) {
        return switch (body) {
            case CompletionResponse c -> c.usage().completionTokens();
            case ChatCompletionResponse c -> c.usage().completionTokens();
            case EmbeddingResponse e -> e.usage().promptTokens();
            default -> 0;
        };
    }

    private void checkModel(String requested, String url) {
        if (requested != null && !requested.equals(m.name))
            throw new ApiException("model_not_found", "model '" + requested + "' is not loaded; this job serves '"
                    + m.name + "' (use that name or leave model out)");
        boolean ok = switch (m.kind) {
            case DECODER -> !url.equals(EmbeddingRequest.URL);
            case SEQ2SEQ -> url.equals(CompletionRequest.URL);
            case EMBEDDING -> url.equals(EmbeddingRequest.URL);
            case SPEECH -> false;
        };
        if (!ok) {
            String serves = switch (m.kind) {
                case DECODER -> CompletionRequest.URL + " and " + ChatRequest.URL;
                case SEQ2SEQ -> CompletionRequest.URL + " (prompt = source text)";
                case EMBEDDING -> EmbeddingRequest.URL;
                case SPEECH -> TranscriptionRequest.URL + " and " + TranscriptionRequest.TRANSLATIONS_URL;
            };
            throw new ApiException("unsupported_url", url + " needs " + (url.equals(EmbeddingRequest.URL)
                    ? "an embedding model" : "a text generation model") + "; '" + m.name + "' is a "
                    + m.kind.name().toLowerCase() + " model serving " + serves);
        }
    }

    private CompletableFuture<Object> completions(CompletionRequest r, StreamOptions s, Listener listener) {
        checkModel(r.model(), CompletionRequest.URL);
        if (m.kind == ServedModel.Kind.SEQ2SEQ) return seq2seq(r, s, listener);
        SamplingParams p = r.params().maxTokens() == null ? r.params().withMaxTokens(DEFAULT_COMPLETION_TOKENS) : r.params();
        GenerationConfig c = p.forRequest(m.defaults);
        List<int[]> prompts = new ArrayList<>();
        int[] chars = new int[r.prompts().size()];
        for (int i = 0; i < chars.length; i++) {
            Prompt pr = r.prompts().get(i);
            prompts.add(pr.ids() != null ? pr.ids() : m.tokenizer.encode(pr.text(), true).ids());
            chars[i] = pr.text() != null ? pr.text().length() : 0;
        }
        StreamChunks chunks = s.stream() ? new StreamChunks(listener, false, m.name, prompts.size(),
                c.numReturnSequences(), chars, c.logprobs() != null, s.includeUsage(), r.returnTokenIds()) : null;
        return generate(prompts, c, chunks, listener, all -> {
            List<GenerationResult> results = new ArrayList<>();
            int prompt = 0, completion = 0;
            for (Completion x : all) {
                results.addAll(x.results());
                prompt += x.promptTokens();
                completion += x.completionTokens();
            }
            Usage usage = Usage.of(prompt, completion);
            if (chunks != null) {
                chunks.finish(results, usage);
                return usage;
            }
            return CompletionResponse.of(BatchOutput.newId("cmpl-"), now(), m.name, results,
                    c.numReturnSequences(), chars, c.logprobs() != null, r.returnTokenIds(), usage);
        });
    }

    private CompletableFuture<Object> chat(ChatRequest r, StreamOptions s, Listener listener) {
        checkModel(r.model(), ChatRequest.URL);
        GenerationConfig base = r.params().forRequest(m.defaults).constraint(r.constraint()); // response_format
        String template = m.tokenizerConfig == null ? null : m.tokenizerConfig.chatTemplate();
        if (template == null)
            throw new ApiException("chat_template_missing", "'" + m.name + "' has no chat_template in its tokenizer_config.json; "
                    + "send " + CompletionRequest.URL + " instead, or use a chat model");
        ChatTools tools = r.tools();
        ToolCallSyntax syntax = tools == null ? null : ToolCallSyntax.detect(template);
        String rendered;
        Constraint call = null;
        if (tools != null) {
            rendered = tools.prompt(m.tokenizerConfig, r.messages(), m.name);
            call = tools.constraint(syntax); // tool_choice required / named: exactly one call
        } else {
            try {
                rendered = m.tokenizerConfig.applyChatTemplate(r.messages(), true, null);
            } catch (CortadoException e) {
                throw ApiException.param("messages: the chat template refused them: " + e.getMessage());
            }
        }
        GenerationConfig c = call == null ? base : base.constraint(call);
        // as transformers' apply_chat_template(tokenize=True): the template writes the special tokens itself
        int[] ids = m.tokenizer.encode(rendered, false).ids();
        java.util.function.Function<GenerationResult, ChatCompletionResponse.Reply> replies =
                tools == null ? ChatCompletionResponse.Reply::text : g -> tools.reply(g, syntax);
        StreamChunks chunks = s.stream() ? new StreamChunks(listener, true, m.name, 1, c.numReturnSequences(),
                new int[1], c.logprobs() != null, s.includeUsage(), false) : null;
        // with tools (but none) a streamed reply waits for the end: its calls are parsed from the whole text
        if (chunks != null && tools != null && tools.choice() != ChatTools.Choice.NONE) chunks.wholeReplies(replies);
        return generate(List.of(ids), c, chunks, listener, all -> {
            Completion x = all.getFirst();
            Usage usage = Usage.of(x.promptTokens(), x.completionTokens());
            if (chunks != null) {
                chunks.finish(x.results(), usage);
                return usage;
            }
            return ChatCompletionResponse.of(BatchOutput.newId("chatcmpl-"), now(), m.name, x.results(),
                    c.logprobs() != null, usage, replies);
        });
    }

    /**
     * Submits every prompt to the engine after the context checks (streaming tokens to {@code chunks} when not
     * null); completes with {@code done} applied to all the completions. Cancelling it cancels the requests.
     */
    private CompletableFuture<Object> generate(List<int[]> prompts, GenerationConfig c, StreamChunks chunks,
                                               Listener listener, java.util.function.Function<List<Completion>, Object> done) {
        int ctx = m.decoder.maxPositions();
        for (int i = 0; i < prompts.size(); i++) {
            int n = prompts.get(i).length;
            String which = prompts.size() == 1 ? "the prompt" : "prompt " + i;
            if (n >= ctx)
                throw new ApiException("context_length_exceeded", which + " has " + n + " tokens but the model's context is "
                        + ctx + " tokens; shorten it");
            Integer max = c.maxNewTokens();
            if (max != null && (long) n + max > ctx)
                throw new ApiException("context_length_exceeded", "max_tokens = " + max + " plus " + which + "'s " + n
                        + " tokens exceed the model's context of " + ctx + " tokens; set max_tokens ≤ " + (ctx - n));
        }
        List<CompletableFuture<Completion>> fs = new ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean();
        for (int i = 0; i < prompts.size(); i++) {
            int p = i;
            Consumer<dev.cortado.generate.GeneratedToken> onToken = listener == null ? null : t -> {
                if (!first.get() && first.compareAndSet(false, true)) listener.firstToken();
                if (chunks != null) chunks.token(p, t);
            };
            fs.add(m.engine.submit(Request.ofIds(prompts.get(i), c), onToken));
        }
        return linked(CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new))
                .thenApply(v -> done.apply(fs.stream().map(CompletableFuture::join).toList())), fs);
    }

    /** {@code result}, whose cancellation also cancels {@code parts} (the engine requests behind it). */
    static <T> CompletableFuture<T> linked(CompletableFuture<T> result, List<? extends Future<?>> parts) {
        CompletableFuture<T> out = new CompletableFuture<>() {
            @Override
            public boolean cancel(boolean mayInterrupt) {
                for (Future<?> f : parts) f.cancel(mayInterrupt);
                return super.cancel(mayInterrupt);
            }
        };
        result.whenComplete((v, e) -> {
            if (e != null) out.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
            else out.complete(v);
        });
        return out;
    }

    private CompletableFuture<Object> seq2seq(CompletionRequest r, StreamOptions s, Listener listener) {
        GenerationConfig c = r.params().forRequest(m.defaults.encoderDecoder(true));
        List<CompletableFuture<List<GenerationResult>>> fs = new ArrayList<>();
        int prompt = 0;
        int[] chars = new int[r.prompts().size()];
        for (int i = 0; i < chars.length; i++) {
            Prompt p = r.prompts().get(i);
            if (p.text() == null)
                throw ApiException.param("token-id prompts are not supported for encoder-decoder models; send the source text");
            if (p.text().isBlank()) throw ApiException.param("the prompt (source text) is empty");
            prompt += m.tokenizer.encode(p.text(), true).ids().length;
            chars[i] = p.text().length();
        }
        for (Prompt p : r.prompts()) fs.add(m.seq2seq.submit(p.text(), c));
        int promptTokens = prompt;
        StreamChunks chunks = s.stream() ? new StreamChunks(listener, false, m.name, chars.length,
                c.numReturnSequences(), chars, c.logprobs() != null, s.includeUsage(), r.returnTokenIds()) : null;
        return linked(CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<GenerationResult> results = new ArrayList<>();
            int completion = 0;
            for (var f : fs) {
                for (GenerationResult g : f.join()) {
                    results.add(g);
                    completion += g.ids().length;
                }
            }
            Usage usage = Usage.of(promptTokens, completion);
            if (listener != null) listener.firstToken();
            if (chunks != null) {
                chunks.finish(results, usage); // translations arrive whole: one chunk per choice
                return usage;
            }
            return CompletionResponse.of(BatchOutput.newId("cmpl-"), now(), m.name, results,
                    c.numReturnSequences(), chars, c.logprobs() != null, r.returnTokenIds(), usage);
        }), fs);
    }

    private CompletableFuture<Object> embeddings(EmbeddingRequest r, Listener listener) {
        checkModel(r.model(), EmbeddingRequest.URL);
        return CompletableFuture.supplyAsync(() -> {
            List<float[]> vectors = m.embedder.embed(r.input(), 32);
            int tokens = 0;
            for (String t : r.input()) tokens += m.embedder.tokenize(t).length;
            if (listener != null) listener.firstToken();
            return EmbeddingResponse.of(m.name, vectors, tokens, r.base64());
        }, m.embedThread);
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }
}
