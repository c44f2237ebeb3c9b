package dev.cortado.api;

import dev.cortado.generate.GeneratedToken;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.TokenLogprob;
import java.util.List;

/**
 * Builds the chunks of one streamed completion or chat completion as its tokens arrive. Each token with text (or a
 * logprob) becomes one chunk of its choice; when the request is done, {@link #finish} sends what no token carried
 * (beam search and seq2seq results arrive whole) and each choice's {@code finish_reason}, then the usage chunk when
 * asked for. Choices are numbered prompt-major ({@code prompt * n + sequence}), as in the non-streamed response.
 * Thread-safe: the requests of several prompts stream from their own threads.
 */
final class StreamChunks {
    private final OpenAiService.Listener out;
    private final boolean chat, withLogprobs, includeUsage, withTokenIds;
    private final String id, model;
    private final long created;
    private final int perPrompt;
    private final int[] promptChars;
    private final int[] sentChars, sentLogprobs, sentIds;
    private final boolean[] started;
    private java.util.function.Function<GenerationResult, ChatCompletionResponse.Reply> replies;

    StreamChunks(OpenAiService.Listener out, boolean chat, String model, int prompts, int perPrompt, int[] promptChars,
                 boolean withLogprobs, boolean includeUsage, boolean withTokenIds) {
        this.withTokenIds = withTokenIds && !chat;
        this.out = out;
        this.chat = chat;
        this.id = BatchOutput.newId(chat ? "chatcmpl-" : "cmpl-");
        this.created = System.currentTimeMillis() / 1000;
        this.model = model;
        this.perPrompt = perPrompt;
        this.promptChars = promptChars;
        this.withLogprobs = withLogprobs;
        this.includeUsage = includeUsage;
        int choices = prompts * perPrompt;
        this.sentChars = new int[choices];
        this.sentLogprobs = new int[choices];
        this.sentIds = new int[choices];
        this.started = new boolean[choices];
    }

    /**
     * Chat with tools: no chunk per token; {@link #finish} sends each choice whole as {@code replies} makes it
     * (content and tool calls parsed from the whole text).
     */
    synchronized void wholeReplies(java.util.function.Function<GenerationResult, ChatCompletionResponse.Reply> replies) {
        this.replies = replies;
    }

    /** A token of prompt {@code prompt}'s request. */
    synchronized void token(int prompt, GeneratedToken t) {
        if (replies != null) return;
        int choice = prompt * perPrompt + t.sequence();
        if (choice >= sentChars.length) return;
        List<TokenLogprob> lp = withLogprobs && t.logprob() != null ? List.of(t.logprob()) : List.of();
        String text = t.text() == null ? "" : t.text(); // no tokenizer: ids only
        if (text.isEmpty() && lp.isEmpty() && !withTokenIds) return;
        send(choice, text, lp, withTokenIds ? new int[] {t.id()} : null, null);
    }

    /** The rest of every choice's text and its finish reason ({@code results} in choice order), then the usage. */
    synchronized void finish(List<GenerationResult> results, Usage usage) {
        for (int c = 0; c < results.size() && c < sentChars.length; c++) {
            GenerationResult r = results.get(c);
            if (replies != null) {
                sendReply(c, replies.apply(r), withLogprobs ? r.logprobs() : List.of());
                continue;
            }
            String text = r.text() == null ? "" : r.text();
            String rest = sentChars[c] <= text.length() ? text.substring(sentChars[c]) : "";
            List<TokenLogprob> lps = withLogprobs && sentLogprobs[c] < r.logprobs().size()
                    ? r.logprobs().subList(sentLogprobs[c], r.logprobs().size()) : List.of();
            int[] ids = r.ids();
            int[] restIds = withTokenIds ? java.util.Arrays.copyOfRange(ids, Math.min(sentIds[c], ids.length), ids.length) : null;
            send(c, rest, lps, restIds, ApiJson.finishReason(r.finishReason()));
        }
        if (includeUsage)
            out.chunk(chat ? ChatCompletionChunk.usage(id, created, model, usage)
                    : new CompletionResponse(id, "text_completion", created, model, List.of(), usage));
    }

    private void sendReply(int choice, ChatCompletionResponse.Reply reply, List<TokenLogprob> lps) {
        List<ChatCompletionChunk.ToolCallDelta> calls = null;
        if (reply.toolCalls() != null) {
            calls = new java.util.ArrayList<>();
            for (int i = 0; i < reply.toolCalls().size(); i++) {
                ChatCompletionResponse.ToolCall t = reply.toolCalls().get(i);
                calls.add(new ChatCompletionChunk.ToolCallDelta(i, t.id(), t.type(), t.function()));
            }
        }
        started[choice] = true;
        var delta = new ChatCompletionChunk.Delta("assistant", reply.content(), calls);
        var logprobs = withLogprobs ? ChatCompletionResponse.logprobs(lps) : null;
        out.chunk(ChatCompletionChunk.of(id, created, model, new ChatCompletionChunk.Choice(choice, delta, logprobs,
                reply.finishReason())));
    }

    private void send(int choice, String text, List<TokenLogprob> lps, int[] ids, String finish) {
        boolean first = !started[choice];
        started[choice] = true;
        int offset = promptChars[choice / perPrompt] + sentChars[choice];
        sentChars[choice] += text.length();
        sentLogprobs[choice] += lps.size();
        if (ids != null) sentIds[choice] += ids.length;
        if (chat) {
            var delta = new ChatCompletionChunk.Delta(first ? "assistant" : null, text.isEmpty() && finish != null ? null : text);
            var logprobs = withLogprobs ? ChatCompletionResponse.logprobs(lps) : null;
            out.chunk(ChatCompletionChunk.of(id, created, model, new ChatCompletionChunk.Choice(choice, delta, logprobs, finish)));
        } else {
            var logprobs = withLogprobs ? CompletionResponse.Logprobs.of(lps, offset) : null;
            out.chunk(new CompletionResponse(id, "text_completion", created, model,
                    List.of(new CompletionResponse.Choice(text, choice, logprobs, finish, ids)), null));
        }
    }
}
