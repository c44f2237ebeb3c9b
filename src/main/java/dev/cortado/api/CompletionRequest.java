package dev.cortado.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code /v1/completions} request body: {@code prompt} is a string, a list of strings, a list of token ids or a
 * list of token-id lists (each prompt gets {@code n} choices, prompt-major as OpenAI orders them); {@code model}
 * may be absent (the loaded model). Without {@code max_tokens} a decoder writes OpenAI's default 16 tokens, a
 * seq2seq model up to its generation_config.json limit. For an encoder-decoder model the prompt is the source text and the
 * completion its translation or summary.
 */
public record CompletionRequest(String model, List<Prompt> prompts, SamplingParams params, StreamOptions stream,
                                boolean returnTokenIds) {
    public static final String URL = "/v1/completions";

    public CompletionRequest {
        prompts = List.copyOf(prompts);
    }

    /** Parses and checks a body; an {@link ApiException} names the first bad field (an unknown one too). */
    public static CompletionRequest parse(JsonNode json) {
        return parse(json, true);
    }

    /** As {@link #parse(JsonNode)}; when not {@code strict}, unknown fields are ignored (as OpenAI's server does). */
    public static CompletionRequest parse(JsonNode json, boolean strict) {
        Body b = new Body(json, strict);
        String model = b.string("model");
        List<Prompt> prompts = prompts(b.get("prompt"));
        SamplingParams p = SamplingParams.completions(b);
        StreamOptions stream = StreamOptions.parse(b);
        boolean tokenIds = Boolean.TRUE.equals(b.bool("return_token_ids")); // vLLM's extension: choices carry token_ids
        if (Boolean.TRUE.equals(b.bool("echo"))) throw ApiException.param("echo: true is not supported; remove it");
        if (b.string("suffix") != null) throw ApiException.param("suffix (insertion) is not supported; remove it");
        b.rejectUnknown(URL);
        return new CompletionRequest(model, prompts, p, stream, tokenIds);
    }

    private static List<Prompt> prompts(JsonNode n) {
        if (n == null) throw ApiException.param("'prompt' is missing; give the text to complete");
        if (n.isTextual()) return List.of(Prompt.text(n.textValue()));
        if (!n.isArray() || n.isEmpty()) throw Body.type("prompt", "a string, a list of strings or token ids", n);
        if (n.get(0).isIntegralNumber()) return List.of(Prompt.ids(ids(n)));
        List<Prompt> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (e.isTextual()) out.add(Prompt.text(e.textValue()));
            else if (e.isArray() && !e.isEmpty()) out.add(Prompt.ids(ids(e)));
            else throw Body.type("prompt", "a string, a list of strings or token ids", n);
        }
        return out;
    }

    private static int[] ids(JsonNode a) {
        int[] ids = new int[a.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = a.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt() || e.intValue() < 0)
                throw Body.type("prompt", "token ids (integers ≥ 0)", a);
            ids[i] = e.intValue();
        }
        return ids;
    }
}
